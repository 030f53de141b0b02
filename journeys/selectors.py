"""Reads for the pages. Each returns everything its page needs in a fixed number of queries."""

import hashlib
import random
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, Q, Sum, Window
from django.http import Http404
from django.urls import reverse

from .content_cache import cached
from .markdown import lesson_url
from .models import (
    Certificate,
    GlossaryTerm,
    Journey,
    Lesson,
    LessonProgress,
    Question,
    Quiz,
    QuizAttempt,
    can_preview_drafts,
)
from .quiz_rules import stored_quiz_problems


@dataclass
class OutlineLesson:
    id: int
    slug: str
    title: str
    summary: str
    minutes: int
    is_published: bool
    url: str


@dataclass
class OutlineModule:
    slug: str
    title: str
    summary: str
    lessons: list

    @property
    def minutes(self):
        return sum(lesson.minutes for lesson in self.lessons)


@dataclass
class JourneyOutline:
    journey: Journey
    modules: list

    @property
    def lessons(self):
        return [lesson for module in self.modules for lesson in module.lessons]

    @property
    def minutes(self):
        return sum(module.minutes for module in self.modules)


def journey_list_for_user(*, user):
    visible_lessons = Q() if can_preview_drafts(user) else Q(lessons__is_published=True)
    return (
        Journey.objects.visible_to(user)
        .annotate(
            lesson_count=Count("lessons", filter=visible_lessons),
            total_minutes=Sum("lessons__minutes", filter=visible_lessons),
        )
        .order_by("order", "title")
    )


def journey_for_user(*, user, journey_slug):
    journey = Journey.objects.visible_to(user).filter(slug=journey_slug).first()
    if journey is None:
        raise Http404("No such journey.")
    return journey


def journey_outline_for_user(*, user, journey):
    """The journey's modules and the lessons this user may see (cached per content version)."""
    audience = "staff" if can_preview_drafts(user) else "public"
    return cached(f"outline:{journey.pk}:{audience}", lambda: _journey_outline(user=user, journey=journey))


def _journey_outline(*, user, journey):
    lessons = (
        Lesson.objects.visible_to(user)
        .filter(journey=journey)
        .in_outline_order()
        .only("slug", "title", "summary", "minutes", "is_published", "module_id")
    )
    by_module = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(
            OutlineLesson(
                id=lesson.id,
                slug=lesson.slug,
                title=lesson.title,
                summary=lesson.summary,
                minutes=lesson.minutes,
                is_published=lesson.is_published,
                url=lesson_url(journey.slug, lesson.slug),
            )
        )
    modules = [
        OutlineModule(
            slug=module.slug, title=module.title, summary=module.summary, lessons=by_module.get(module.id, [])
        )
        for module in journey.modules.order_by("order", "id")
    ]
    return JourneyOutline(journey=journey, modules=[module for module in modules if module.lessons])


def lesson_for_user(*, user, journey_slug, lesson_slug):
    lesson = (
        Lesson.objects.visible_to(user)
        .select_related("module", "journey")
        # The page shows the stored HTML; the Markdown source and search text are large and unused here.
        .defer("body", "search_text", "journey__description")
        .filter(journey__slug=journey_slug, slug=lesson_slug)
        .first()
    )
    if lesson is None:
        raise Http404("No such lesson.")
    # The module belongs to the same journey; sharing the loaded row saves a query for its URL.
    lesson.module.journey = lesson.journey
    return lesson


def lesson_neighbours(outline, lesson_slug):
    """(previous, next) OutlineLesson around ``lesson_slug`` in reading order."""
    lessons = outline.lessons
    for index, lesson in enumerate(lessons):
        if lesson.slug == lesson_slug:
            previous = lessons[index - 1] if index > 0 else None
            following = lessons[index + 1] if index + 1 < len(lessons) else None
            return previous, following
    return None, None


def glossary_terms():
    return GlossaryTerm.objects.order_by("term")


# --- Progress ---


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


# --- Quizzes ---


@dataclass
class QuizState:
    """What a learner sees of one quiz: the questions of their open form and their history."""

    quiz: Quiz
    questions: list
    token: str
    attempts: list
    attempt_count: int
    passed: bool
    # True when the questions are a random draw from a larger pool (a final assessment's ``draw``).
    drawn_at_random: bool = False

    def answers_revealed(self):
        return answers_revealed(self.quiz, attempt_count=self.attempt_count, passed=self.passed)


def answers_revealed(quiz, *, attempt_count, passed):
    if quiz.reveal == Quiz.Reveal.AFTER_PASS:
        return passed
    return passed or attempt_count >= quiz.reveal_after_attempts


def quiz_with_questions(quiz_filter):
    """A quiz with its questions and choices, cached per content version (False caches "no quiz").

    ``quiz.problems`` lists what keeps it from being taken (the rules of ``quiz_rules``, which
    admin enforces; a row written some other way may still break them).
    """
    name = "quiz:" + ",".join(f"{key}={getattr(value, 'pk', value)}" for key, value in sorted(quiz_filter.items()))

    def build():
        found = (
            Quiz.objects.filter(**quiz_filter)
            .select_related("journey", "lesson__journey", "lesson__module")
            .prefetch_related(Prefetch("questions", queryset=Question.objects.prefetch_related("choices")))
            .first()
        )
        if found is None:
            return False
        questions = list(found.questions.all())
        found.problems = stored_quiz_problems(found, questions)
        # Worked out once per content version: every page view and submission checks a form with them.
        found.question_signatures = {question.id: question_signature(question) for question in questions}
        return found

    return cached(name, build) or None


def learner_attempts(*, learner, quiz, limit=10):
    """The learner's latest attempts at ``quiz``, and how many they made and passed."""
    # The counts ride along as window aggregates, which see every attempt before the limit: one query.
    latest = list(
        learner.records(QuizAttempt.objects.filter(quiz=quiz))
        .only("id", "score", "passed", "submitted_at", "started_at")
        .annotate(all_count=Window(Count("id")), passed_count=Window(Count("id", filter=Q(passed=True))))
        .order_by("-submitted_at", "-id")[:limit]
    )
    if not latest:
        return latest, {"count": 0, "passed": 0}
    return latest, {"count": latest[0].all_count, "passed": latest[0].passed_count}


def quiz_questions_for_seed(quiz, seed, questions=None):
    """The questions of one attempt, in the order shown: a random draw for an assessment, else all."""
    if questions is None:
        questions = list(quiz.questions.order_by("order", "id").prefetch_related("choices"))
    if quiz.draw and quiz.draw < len(questions):
        questions = random.Random(seed).sample(questions, quiz.draw)  # noqa: S311 - which questions, not security
    return questions


def question_signature(question):
    """What an answer to ``question`` means: the question, its kind and its choices. Not its wording
    or its answer key: after a reworded prompt or a corrected answer, the learner's answers still
    mean what they meant."""
    choice_ids = ",".join(str(choice_id) for choice_id in sorted(choice.id for choice in question.choices.all()))
    return f"{question.id}:{question.kind}:{choice_ids}"


def quiz_questions_digest(quiz, questions):
    """What a form of ``quiz`` showing ``questions`` asks, in 16 characters (their order left out).

    Uses the signatures cached with the quiz (see quiz_with_questions) when it has them.
    """
    signatures = getattr(quiz, "question_signatures", None) or {}
    parts = sorted(signatures.get(question.id) or question_signature(question) for question in questions)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def quiz_form_questions(quiz, form):
    """The questions ``form`` (an open quiz form) shows, in its order, as ``quiz`` has them now; None
    when they changed since it was handed out, so the learner's answers cannot be graded as meant.

    A form of a quiz that draws lists the questions it drew: questions added to the pool since leave
    it alone, while a shown question removed, a changed kind or choices, or another draw size make it
    out of date. Any other form shows the whole quiz, so its digest covers which questions there are.
    Reads the quiz's prefetched (cached) questions: no query.
    """
    pool = list(quiz.questions.all())
    if not form.questions_digest:
        # Handed out before forms carried a digest (such forms expire after QUIZ_FORM_MAX_AGE).
        return quiz_questions_for_seed(quiz, form.seed, pool)
    if form.question_ids:
        if not quiz.draw or len(form.question_ids) != min(quiz.draw, len(pool)):
            return None
        by_id = {question.id: question for question in pool}
        questions = [by_id.get(question_id) for question_id in form.question_ids]
        if any(question is None for question in questions):
            return None
    else:
        questions = quiz_questions_for_seed(quiz, form.seed, pool)
    return questions if quiz_questions_digest(quiz, questions) == form.questions_digest else None


def shuffled_choices(question, seed):
    """Choices in the order this attempt shows them; ordering steps are never shown already solved."""
    choices = list(question.choices.all())
    if question.kind == Question.Kind.TRUE_FALSE:
        return choices
    rng = random.Random(seed * 1_000_003 + question.id)  # noqa: S311 - display order only
    rng.shuffle(choices)
    already_solved = [choice.order for choice in choices] == sorted(choice.order for choice in choices)
    if question.kind == Question.Kind.ORDERING and len(choices) > 1 and already_solved:
        choices.append(choices.pop(0))
    return choices


def quiz_state(*, learner, quiz, open_form):
    pool = list(quiz.questions.all())
    # The open form is always one its quiz can take (quiz_form_open replaces any other).
    questions = quiz_form_questions(quiz, open_form)
    for question in questions:
        question.shown_choices = shuffled_choices(question, open_form.seed)
        # Defaults for what a rejected submission fills in: a missing attribute costs the template
        # engine a slow failed lookup on every choice.
        question.submitted = []
        for choice in question.shown_choices:
            choice.submitted_position = ""
    attempts, summary = learner_attempts(learner=learner, quiz=quiz)
    return QuizState(
        quiz=quiz,
        questions=questions,
        token=open_form.token,
        attempts=attempts,
        attempt_count=summary["count"],
        passed=summary["passed"] > 0,
        drawn_at_random=len(questions) < len(pool),
    )


@dataclass
class AnsweredQuestion:
    number: int
    question: Question
    outcome: dict
    answer: object
    choices: list


def attempt_review(attempt, questions=None):
    """The questions of an attempt with what the learner answered and how it was graded.

    ``questions``: the quiz's questions with their choices when the caller has them already.
    """
    if questions is None:
        questions = Question.objects.filter(id__in=attempt.question_ids).prefetch_related("choices")
    questions = {question.id: question for question in questions}
    outcomes = {outcome["question_id"]: outcome for outcome in attempt.results}
    reviewed = []
    for number, question_id in enumerate(attempt.question_ids, start=1):
        question = questions.get(question_id)
        if question is None:
            continue  # removed by an author since; the score still stands
        answer = attempt.answers.get(str(question_id))
        outcome = outcomes.get(question_id, {})
        choices = list(question.choices.all())
        chosen = set(answer if isinstance(answer, list) else [answer])
        feedback = dict(outcome.get("choice_feedback", []))
        for choice in choices:
            choice.chosen = choice.id in chosen
            choice.shown_feedback = feedback.get(choice.id, "")
        if question.kind == Question.Kind.ORDERING and isinstance(answer, list):
            by_id = {choice.id: choice for choice in choices}
            choices = [by_id[choice_id] for choice_id in answer if choice_id in by_id]
        reviewed.append(AnsweredQuestion(number, question, outcome, answer, choices))
    return reviewed


def quiz_visible_to(quiz, user):
    """Whether ``user`` may take ``quiz``, as ``quiz_with_questions`` loads it (no query).

    Staff may try a draft; nobody gets a quiz that breaks a rule (a question without a correct
    choice, a kubectl question without a readable command ...), which could not be answered or graded.
    """
    if quiz.problems:
        return False
    if can_preview_drafts(user):
        return True
    if not quiz.is_published:
        return False
    if quiz.lesson_id:
        return quiz.lesson.is_published and quiz.lesson.journey.is_published
    return quiz.journey.is_published


def attempt_for_learner(*, learner, attempt_id):
    """One of this learner's attempts; anyone else's is a 404, so ids reveal nothing."""
    attempt = (
        learner.records(QuizAttempt.objects.filter(pk=attempt_id))
        .select_related("quiz__lesson", "quiz__journey")
        .first()
    )
    if attempt is None:
        raise Http404("No such attempt.")
    return attempt


def attach_submitted_answers(questions, data):
    """Put a rejected submission's answers back on the questions, so the learner does not lose them."""
    for question in questions:
        question.submitted = data.getlist(f"q{question.id}")
        for choice in question.shown_choices:
            choice.submitted_position = data.get(f"q{question.id}-{choice.id}", "")


# --- Dashboard and certificate ---


@dataclass
class CertificateRequirements:
    lessons_left: list
    final_quiz: object
    final_passed: bool

    @property
    def complete(self):
        return not self.lessons_left and self.final_quiz is not None and self.final_passed


def has_final_assessment(*, journey, user):
    """Whether ``user`` can take the journey's final assessment (staff: a draft too)."""
    return Quiz.objects.visible_to(user).filter(journey=journey, is_final=True).exists()


def certificate_requirements(*, learner, journey, outline=None, completed_ids=None):
    outline = outline or journey_outline_for_user(user=AnonymousUser(), journey=journey)
    if completed_ids is None:
        completed_ids = completed_lesson_ids(learner=learner, journey=journey)
    final = Quiz.objects.published().filter(journey=journey, is_final=True).first()
    passed = bool(final) and learner.records(QuizAttempt.objects.filter(quiz=final, passed=True)).exists()
    left = [lesson for lesson in outline.lessons if lesson.id not in completed_ids]
    return CertificateRequirements(lessons_left=left, final_quiz=final, final_passed=passed)


@dataclass
class NextStep:
    text: str
    url: str
    action: str


@dataclass
class JourneyDashboard:
    journey: Journey
    progress: Progress
    continue_lesson: object
    next_step: NextStep
    certificate: object


def dashboard_for_learner(*, learner, user):
    """The dashboard: progress per journey, where to continue, what to do next, and recent activity."""
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
    viewed = sorted(
        (row for row in progress_rows if row.last_viewed_at), key=lambda row: row.last_viewed_at, reverse=True
    )
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
    finals = {quiz.journey_id: quiz for quiz in Quiz.objects.published().filter(journey__in=journeys, is_final=True)}
    certificates = {}
    if learner.user is not None:
        certificates = {cert.journey_id: cert for cert in Certificate.objects.filter(user=learner.user)}

    cards = []
    for journey in journeys:
        lessons = [row for row in visible_lessons if row["journey_id"] == journey.pk]
        done = sum(row["id"] in completed for row in lessons)
        last_viewed = next((row for row in viewed if any(lesson["id"] == row.lesson_id for lesson in lessons)), None)
        continue_lesson = None
        if last_viewed is not None:
            continue_lesson = next(lesson for lesson in lessons if lesson["id"] == last_viewed.lesson_id)
        cards.append(
            JourneyDashboard(
                journey=journey,
                progress=Progress(done, len(lessons)),
                continue_lesson=_lesson_link(journey, continue_lesson),
                next_step=_next_step(
                    journey,
                    lessons,
                    completed,
                    continue_lesson,
                    attempts,
                    finals.get(journey.pk),
                    certificates.get(journey.pk),
                ),
                certificate=certificates.get(journey.pk),
            )
        )
    return {"journeys": cards, "attempts": attempts[:10], "activity": _recent_activity(progress_rows, attempts)}


def _lesson_link(journey, row):
    if row is None:
        return None
    return {"title": row["title"], "url": lesson_url(journey.slug, row["slug"])}


def _next_step(journey, lessons, completed, continue_lesson, attempts, final, certificate):
    journey_attempts = [attempt for attempt in attempts if attempt.quiz.journey_id == journey.pk]
    latest_by_quiz = {}
    for attempt in journey_attempts:  # newest first
        latest_by_quiz.setdefault(attempt.quiz_id, attempt)
    passed_quizzes = {attempt.quiz_id for attempt in journey_attempts if attempt.passed}
    for attempt in latest_by_quiz.values():
        if not attempt.passed and attempt.quiz_id not in passed_quizzes and not attempt.quiz.is_final:
            lesson = attempt.quiz.lesson
            return NextStep(
                f"Retry the quiz on “{lesson.title}” — you scored {attempt.score:.0f}% last time.",
                attempt.quiz.get_absolute_url(),
                "Retry the quiz",
            )
    if continue_lesson is not None and continue_lesson["id"] not in completed:
        return NextStep(
            f"Finish “{continue_lesson['title']}”.", lesson_url(journey.slug, continue_lesson["slug"]), "Continue"
        )
    for lesson in lessons:
        if lesson["id"] not in completed:
            return NextStep(f"Start “{lesson['title']}”.", lesson_url(journey.slug, lesson["slug"]), "Start the lesson")
    if final is not None and final.pk not in passed_quizzes:
        verb = "Retry" if final.pk in latest_by_quiz else "Take"
        return NextStep(
            f"{verb} the final assessment: every lesson is complete.",
            final.get_absolute_url(),
            f"{verb} the assessment",
        )
    if certificate is not None:
        return NextStep(
            "You have completed this journey. Well done!", certificate.get_absolute_url(), "View your certificate"
        )
    return NextStep(
        "You have completed every lesson. Claim your certificate.",
        reverse("journeys:certificate", kwargs={"journey_slug": journey.slug}),
        "Get your certificate",
    )


def _recent_activity(progress_rows, attempts, limit=10):
    events = [
        {
            "when": row.completed_at,
            "text": f"Completed “{row.lesson.title}” ({row.get_completed_via_display().lower()})",
            "url": row.lesson.get_absolute_url(),
        }
        for row in progress_rows
        if row.completed_at
    ]
    events += [
        {
            "when": attempt.submitted_at,
            "text": f"{'Passed' if attempt.passed else 'Tried'} “{_quiz_name(attempt.quiz)}” with {attempt.score:.0f}%",
            "url": attempt.get_absolute_url(),
        }
        for attempt in attempts
    ]
    return sorted(events, key=lambda event: event["when"], reverse=True)[:limit]


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
            {"journey": cert.journey.slug, "code": cert.code, "issued_at": cert.issued_at}
            for cert in Certificate.objects.filter(user=user).select_related("journey")
        ],
    }
