"""Reads of a learner's progress: per journey and module, the dashboard, the certificate, the data export.

Each returns everything its page needs in a fixed number of queries.
"""

import re
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from ..curriculum.markdown import lesson_url
from ..curriculum.selectors import journey_outline_for_user
from ..models import Certificate, Journey, Lesson, LessonProgress, Quiz, QuizAttempt


@dataclass
class Progress:
    done: int
    total: int

    @property
    def percent(self):
        return round(100 * self.done / self.total) if self.total else 0


def completed_lesson_ids(*, learner, journey=None):
    rows = learner.records(LessonProgress.objects.filter(completed_at__isnull=False))
    if journey is not None:
        rows = rows.filter(lesson__journey=journey)
    return set(rows.values_list("lesson_id", flat=True))


def journey_progress(*, learner, journey):
    """{lesson id: (completed_at, last_viewed_at)} for this learner in ``journey``, in one query."""
    rows = learner.records(LessonProgress.objects.filter(lesson__journey_id=journey.pk))
    return {
        lesson_id: (done, seen)
        for lesson_id, done, seen in rows.values_list("lesson_id", "completed_at", "last_viewed_at")
    }


def outline_progress(outline, completed_ids):
    """Journey progress and per-module progress (keyed by module slug) for an outline."""
    modules = {
        module.slug: Progress(sum(lesson.id in completed_ids for lesson in module.lessons), len(module.lessons))
        for module in outline.modules
    }
    overall = Progress(sum(item.done for item in modules.values()), sum(item.total for item in modules.values()))
    return overall, modules


# --- Dashboard and certificate ---


@dataclass
class CertificateRequirements:
    lessons_left: list
    final_quiz: object
    final_passed: bool

    @property
    def complete(self):
        return not self.lessons_left and self.final_quiz is not None and self.final_passed


def certificate_requirements(*, learner, journey, outline=None, completed_ids=None):
    outline = outline or journey_outline_for_user(user=AnonymousUser(), journey=journey)
    if completed_ids is None:
        completed_ids = completed_lesson_ids(learner=learner, journey=journey)
    final = Quiz.objects.published().filter(journey=journey, is_final=True).first()
    passed = bool(final) and learner.records(QuizAttempt.objects.filter(quiz=final, passed=True)).exists()
    left = [lesson for lesson in outline.lessons if lesson.id not in completed_ids]
    return CertificateRequirements(lessons_left=left, final_quiz=final, final_passed=passed)


# Codes are issued as 20 hexadecimal digits; older or seeded ones may differ, so this only keeps
# out what no code can be (slashes, spaces, NUL bytes, pages of text) before the database is asked.
CERTIFICATE_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def certificate_by_code(*, code, user=None):
    """The certificate with this verification ``code`` (only ``user``'s, when given), or None."""
    if not CERTIFICATE_CODE.fullmatch(code):
        return None
    certificates = Certificate.objects.select_related("journey", "user")
    if user is not None:
        certificates = certificates.filter(user_id=user.pk)
    return certificates.filter(code=code).first()


@dataclass
class NextStep:
    text: str
    url: str
    action: str


@dataclass
class JourneyDashboard:
    journey: Journey
    progress: Progress
    next_step: NextStep
    certificate: object


def dashboard_for_learner(*, learner, user):
    """The dashboard: progress per journey, the one thing to do next in each, and recent activity."""
    journeys = list(Journey.objects.visible_to(user).order_by("order", "title"))
    visible_lessons = list(
        Lesson.objects.visible_to(user)
        .filter(journey__in=journeys)
        .in_outline_order()
        .values("id", "journey_id", "slug", "title")
    )
    progress_rows = list(
        learner.records(LessonProgress.objects.filter(lesson__in=[row["id"] for row in visible_lessons]))
        .select_related("lesson__journey")
        .only(
            "lesson_id",
            "completed_at",
            "completed_via",
            "last_viewed_at",
            "user_id",
            "anon_key",
            "lesson__title",
            "lesson__slug",
            "lesson__journey_id",
            "lesson__journey__slug",
        )
    )
    completed = {row.lesson_id for row in progress_rows if row.completed_at}
    # When the learner was last at each lesson: reading it, or completing it (by its quiz or lab, too).
    last_there = {row.lesson_id: _latest(row.last_viewed_at, row.completed_at) for row in progress_rows}
    attempts = list(
        learner.records(QuizAttempt.objects.all())
        .select_related("quiz__lesson", "quiz__journey")
        .only(
            "id",
            "score",
            "passed",
            "submitted_at",
            "started_at",
            "quiz_id",
            "user_id",
            "anon_key",
            "quiz__is_final",
            "quiz__title",
            "quiz__journey_id",
            "quiz__lesson_id",
            "quiz__lesson__title",
            "quiz__lesson__slug",
            "quiz__lesson__journey_id",
            "quiz__journey__slug",
        )
        .order_by("-submitted_at")[:50]
    )
    for attempt in attempts:  # answering a lesson's quiz is being at that lesson too
        if attempt.quiz.lesson_id:
            last_there[attempt.quiz.lesson_id] = _latest(last_there.get(attempt.quiz.lesson_id), attempt.submitted_at)
    finals = {quiz.journey_id: quiz for quiz in Quiz.objects.published().filter(journey__in=journeys, is_final=True)}
    certificates = {}
    if learner.user is not None:
        certificates = {cert.journey_id: cert for cert in Certificate.objects.filter(user=learner.user)}

    cards = []
    for journey in journeys:
        lessons = [row for row in visible_lessons if row["journey_id"] == journey.pk]
        done = sum(row["id"] in completed for row in lessons)
        cards.append(
            JourneyDashboard(
                journey=journey,
                progress=Progress(done, len(lessons)),
                next_step=_next_step(
                    journey,
                    lessons,
                    completed,
                    last_there,
                    attempts,
                    finals.get(journey.pk),
                    certificates.get(journey.pk),
                    signed_in=learner.user is not None,
                ),
                certificate=certificates.get(journey.pk),
            )
        )
    return {"journeys": cards, "attempts": attempts[:10], "activity": _recent_activity(progress_rows, attempts)}


def _latest(*moments):
    return max((moment for moment in moments if moment is not None), default=None)


def _next_step(journey, lessons, completed, last_there, attempts, final, certificate, *, signed_in):
    """The one thing to do next in ``journey``: the first lesson not complete from where the learner
    last was (that lesson itself if it is not complete, else the ones after it, then any before it);
    once every lesson is complete, the final assessment until it is passed; then the certificate
    (which, once issued, is the answer whatever else changed since).

    "Continue" is only ever said of a lesson the learner opened and has not completed.
    """
    journey_attempts = [attempt for attempt in attempts if attempt.quiz.journey_id == journey.pk]
    passed_quizzes = {attempt.quiz_id for attempt in journey_attempts if attempt.passed}
    latest_by_lesson = {}
    for attempt in journey_attempts:  # newest first
        if attempt.quiz.lesson_id:
            latest_by_lesson.setdefault(attempt.quiz.lesson_id, attempt)

    visited = [index for index, lesson in enumerate(lessons) if last_there.get(lesson["id"]) is not None]
    start = max(visited, key=lambda index: last_there[lessons[index]["id"]]) if visited else 0
    for lesson in lessons[start:] + lessons[:start]:
        if lesson["id"] in completed:
            continue
        url = lesson_url(journey.slug, lesson["slug"])
        attempt = latest_by_lesson.get(lesson["id"])
        if attempt is not None and attempt.quiz_id not in passed_quizzes:
            return NextStep(
                f"Continue “{lesson['title']}”: you scored {attempt.score:.0f}% on its quiz last time. "
                "Your answers are kept, so only the ones marked need another look.",
                f"{url}#quiz",
                "Continue",
            )
        if lesson["id"] in last_there:
            return NextStep(f"Continue “{lesson['title']}”.", url, "Continue")
        return NextStep(f"Start “{lesson['title']}”.", url, "Start the lesson")
    if certificate is not None:
        # Earned already (perhaps before an author added an assessment): nothing is left to do.
        return NextStep(
            "You have completed this journey. Well done!", certificate.get_absolute_url(), "See your certificate"
        )
    if final is not None and final.pk not in passed_quizzes:
        tried = any(attempt.quiz_id == final.pk for attempt in journey_attempts)
        verb = "Retry" if tried else "Take"
        return NextStep(
            f"{verb} the final assessment: every lesson is complete.",
            final.get_absolute_url(),
            f"{verb} the assessment",
        )
    certificate_url = reverse("journeys:certificate", kwargs={"journey_slug": journey.slug})
    if not signed_in:
        return NextStep(
            "You have completed this journey. Create an account to get your certificate: your progress comes with you.",
            f"{reverse('journeys:signup')}?next={certificate_url}",
            "Create an account",
        )
    return NextStep(
        "You have completed this journey. Your certificate is ready.", certificate_url, "Get your certificate"
    )


def _recent_activity(progress_rows, attempts, limit=10):
    """One line per lesson (and one for a final assessment): the latest thing the learner did there."""
    latest = {}

    def offer(key, event):
        if key not in latest or event["when"] > latest[key]["when"]:
            latest[key] = event

    for attempt in attempts:  # newest first: a lesson's first one is its latest
        key = ("lesson", attempt.quiz.lesson_id) if attempt.quiz.lesson_id else ("quiz", attempt.quiz_id)
        verb = "Passed" if attempt.passed else "Tried"
        offer(
            key,
            {
                "when": attempt.submitted_at,
                "text": f"{verb} “{_quiz_name(attempt.quiz)}” with {attempt.score:.0f}%",
                "url": attempt.get_absolute_url(),
                "attempt": attempt,
            },
        )
    for row in progress_rows:
        if not row.completed_at:
            continue
        key = ("lesson", row.lesson_id)
        attempt = latest.get(key, {}).get("attempt")
        if row.completed_via == LessonProgress.Via.QUIZ and attempt is not None and attempt.passed:
            # Passing the quiz completed the lesson a moment after the attempt: one line says both.
            text = f"Completed “{row.lesson.title}”: passed its quiz with {attempt.score:.0f}%"
            when = max(row.completed_at, attempt.submitted_at)
        else:
            text = f"Completed “{row.lesson.title}” ({row.get_completed_via_display().lower()})"
            when = row.completed_at
        offer(key, {"when": when, "text": text, "url": row.lesson.get_absolute_url(), "attempt": None})
    return sorted(latest.values(), key=lambda event: event["when"], reverse=True)[:limit]


def _quiz_name(quiz):
    return f"{quiz.lesson.title} quiz" if quiz.lesson_id else quiz.title


def learner_data_export(*, user):
    """Everything the portal stores about a learner, as plain data."""
    progress = LessonProgress.objects.filter(user=user).select_related("lesson__journey").order_by("id")
    attempts = QuizAttempt.objects.filter(user=user).select_related("quiz__lesson", "quiz__journey").order_by("id")
    return {
        "account": {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "lesson_progress": [
            {
                "journey": row.lesson.journey.slug,
                "lesson": row.lesson.slug,
                "last_viewed_at": row.last_viewed_at,
                "completed_at": row.completed_at,
                "completed_via": row.completed_via,
            }
            for row in progress
        ],
        "quiz_attempts": [
            {
                "quiz": _quiz_name(attempt.quiz),
                "journey": attempt.quiz.journey.slug,
                "started_at": attempt.started_at,
                "submitted_at": attempt.submitted_at,
                "score": attempt.score,
                "passed": attempt.passed,
                "answers": attempt.answers,
            }
            for attempt in attempts
        ],
        "certificates": [
            {
                "journey": cert.journey.slug,
                "code": cert.code,
                "learner_name": cert.learner_name,
                "issued_at": cert.issued_at,
            }
            for cert in Certificate.objects.filter(user=user).select_related("journey")
        ],
    }
