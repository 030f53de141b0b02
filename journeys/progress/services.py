"""Writes to a learner's progress: lessons viewed and completed, anonymous progress merged, certificates.

Row saves retire a learner's stored pages by themselves (see apps.py); the functions here that
write with update() call learner_changed() as well.
"""

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..learners import key_for
from ..models import Certificate, LessonProgress, QuizAttempt
from ..pages.learner_page import learner_changed


def _progress_row(learner, lesson_id):
    lookup = {"lesson_id": lesson_id, **learner.owner_fields()}
    try:
        with transaction.atomic():
            progress, _ = LessonProgress.objects.get_or_create(**lookup)
    except IntegrityError:
        progress = LessonProgress.objects.get(**lookup)
    return progress


VIEW_RECORD_INTERVAL = timedelta(minutes=5)
NOT_RECORDED = object()


def lesson_viewed(*, learner, lesson_id, last_viewed_at=NOT_RECORDED):
    """Remember the last lesson opened, for "continue where you left off". Return the view's recorded time.

    ``last_viewed_at`` is what the caller already read (None: a row without a view; the default:
    no row). Re-reading a lesson within a few minutes writes nothing: a page view should not
    cost a database write each time.
    """
    now = timezone.now()
    if not learner.is_known:
        return now
    if (
        last_viewed_at is not NOT_RECORDED
        and last_viewed_at is not None
        and now - last_viewed_at < VIEW_RECORD_INTERVAL
    ):
        return last_viewed_at
    updated = 0
    if last_viewed_at is not NOT_RECORDED:
        updated = LessonProgress.objects.filter(lesson_id=lesson_id, **learner.owner_fields()).update(
            last_viewed_at=now
        )
    if not updated:
        progress = _progress_row(learner, lesson_id)
        LessonProgress.objects.filter(pk=progress.pk).update(last_viewed_at=now)
    learner_changed(learner.key)
    return now


def lesson_complete(*, learner, lesson_id, via=LessonProgress.Via.MANUAL):
    """Mark a lesson complete; the first completion (and how it happened) is kept."""
    # Read first: passing a quiz again, the usual case, then costs one query and no savepoint.
    progress = LessonProgress.objects.filter(lesson_id=lesson_id, **learner.owner_fields()).first()
    if progress is None:
        progress = _progress_row(learner, lesson_id)
    if progress.completed_at is None:
        now = timezone.now()
        if LessonProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(
            completed_at=now, completed_via=via
        ):
            progress.completed_at, progress.completed_via = now, via
        else:  # completed meanwhile by another request, whose time and way stand
            progress.refresh_from_db()
        learner_changed(learner.key)
    return progress


def lesson_uncomplete(*, learner, lesson_id):
    LessonProgress.objects.filter(lesson_id=lesson_id, **learner.owner_fields()).update(
        completed_at=None, completed_via=""
    )
    learner_changed(learner.key)


@transaction.atomic
def progress_merge(*, user, anon_key):
    """Move an anonymous visitor's progress and attempts to ``user``; keep the earliest completion."""
    if not anon_key:
        return 0
    learner_changed(key_for(anon_key=anon_key))
    learner_changed(key_for(user_id=user.pk))
    moved = QuizAttempt.objects.filter(user__isnull=True, anon_key=anon_key).update(user=user, anon_key="")
    anonymous_rows = LessonProgress.objects.filter(user__isnull=True, anon_key=anon_key)
    own = {row.lesson_id: row for row in LessonProgress.objects.filter(user=user).select_for_update()}
    for row in anonymous_rows:
        mine = own.get(row.lesson_id)
        if mine is None:
            row.user, row.anon_key = user, ""
            row.save(update_fields=["user", "anon_key"])
            moved += 1
            continue
        if row.completed_at and (mine.completed_at is None or row.completed_at < mine.completed_at):
            mine.completed_at, mine.completed_via = row.completed_at, row.completed_via
        if row.last_viewed_at and (mine.last_viewed_at is None or row.last_viewed_at > mine.last_viewed_at):
            mine.last_viewed_at = row.last_viewed_at
        mine.save(update_fields=["completed_at", "completed_via", "last_viewed_at"])
        row.delete()
        moved += 1
    return moved


def certificate_issue(*, user, journey, requirements):
    """Issue (once) the journey's certificate when ``requirements`` (from selectors) are all met."""
    if not requirements.complete:
        return None
    existing = Certificate.objects.filter(user=user, journey=journey).first()
    if existing:
        return existing
    name = user.get_full_name() or user.username
    try:
        with transaction.atomic():
            return Certificate.objects.create(user=user, journey=journey, code=secrets.token_hex(10), learner_name=name)
    except IntegrityError:
        return Certificate.objects.get(user=user, journey=journey)


def certificate_rename(*, certificate, learner_name):
    """Print ``learner_name`` (checked by CertificateNameForm) on ``certificate`` from now on."""
    certificate.learner_name = learner_name
    certificate.save(update_fields=["learner_name"])
    return certificate
