"""A lesson's completion button and progress bars, for the pages that swap them after a change."""

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from ..curriculum.selectors import journey_outline_for_user
from . import selectors, services


def lesson_progress_context(learner, lesson, *, completion_oob=False, has_quiz=False):
    """The completion button and progress bars of a lesson page, for an htmx swap after a change.

    ``has_quiz``: the lesson has a quiz the learner can take, so the button is the second way to complete it.
    """
    outline = journey_outline_for_user(user=learner.user or AnonymousUser(), journey=lesson.journey)
    completed = selectors.completed_lesson_ids(learner=learner, journey=lesson.journey)
    progress, module_progress = selectors.outline_progress(outline, completed)
    return {
        "lesson": lesson,
        "journey": lesson.journey,
        "is_complete": lesson.pk in completed,
        "progress": progress,
        "module_progress": module_progress.get(lesson.module.slug),
        "oob": True,
        "completion_oob": completion_oob,
        "has_quiz": has_quiz,
    }


def lesson_reading(*, learner, lesson, outline):
    """Record that ``learner`` reads ``lesson``; return the page's progress context and how long it stays true.

    The view is recorded at most once per ``VIEW_RECORD_INTERVAL``; until the next one is due, nothing but
    a write of the learner's can change what the page shows, so that is how long it may be kept.
    """
    rows = selectors.journey_progress(learner=learner, journey=lesson.journey) if learner.is_known else {}
    viewed = rows[lesson.pk][1] if lesson.pk in rows else services.NOT_RECORDED
    viewed_at = services.lesson_viewed(learner=learner, lesson_id=lesson.pk, last_viewed_at=viewed)
    completed = {lesson_id for lesson_id, (done, _) in rows.items() if done}
    progress, module_progress = selectors.outline_progress(outline, completed)
    context = {
        "completed": completed,
        "is_complete": lesson.pk in completed,
        "progress": progress,
        "module_progress": module_progress.get(lesson.module.slug),
    }
    fresh_for = (viewed_at + services.VIEW_RECORD_INTERVAL - timezone.now()).total_seconds()
    return context, fresh_for
