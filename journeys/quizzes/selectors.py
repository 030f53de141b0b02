"""Reads of quizzes for the pages: a quiz with its questions, a learner's form, attempts and their review.

Each returns everything its page needs in a fixed number of queries.
"""

import hashlib
import random
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, Window
from django.http import Http404

from ..models import Question, Quiz, QuizAttempt, can_preview_drafts
from ..pages.content_version import cached
from .rules import stored_quiz_problems


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
    # The attempt whose answers the form starts with (the learner's latest), and how many of the
    # questions shown it did not get right.
    last_attempt: object = None
    last_not_right: int = 0

    def answers_revealed(self):
        return answers_revealed(self.quiz, attempt_count=self.attempt_count, passed=self.passed)


def answers_revealed(quiz, *, attempt_count, passed):
    if quiz.reveal == Quiz.Reveal.AFTER_PASS:
        return passed
    return passed or attempt_count >= quiz.reveal_after_attempts


def quiz_with_questions(quiz_filter):
    """A quiz with its questions and choices, cached per content version (False caches "no quiz").

    ``quiz.problems`` lists what keeps it from being taken (the rules of ``quizzes.rules``, which
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
        # The latest attempt's answers fill in the next form (see previous_answers_attach); they are
        # small, and reading them for the few rows shown costs less than a query of their own.
        .only("id", "score", "passed", "submitted_at", "started_at", "seed", "answers", "results")
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
        question.last_verdict = ""
        for choice in question.shown_choices:
            choice.submitted_position = ""
    attempts, summary = learner_attempts(learner=learner, quiz=quiz)
    last_attempt = attempts[0] if attempts else None
    return QuizState(
        quiz=quiz,
        questions=questions,
        token=open_form.token,
        attempts=attempts,
        attempt_count=summary["count"],
        passed=summary["passed"] > 0,
        drawn_at_random=len(questions) < len(pool),
        last_attempt=last_attempt,
        last_not_right=previous_answers_attach(questions, last_attempt) if last_attempt else 0,
    )


def previous_answers_attach(questions, attempt):
    """Fill the form's ``questions`` with what the learner answered in ``attempt``, and mark the ones
    it did not get right (``question.last_verdict``: "wrong" or "partly"); return how many those are.

    Answers are matched by question and choice id, never by position, so they land where they belong
    whatever order the form shows (a retry keeps the order of the attempt before it; a quiz that draws
    draws anew, and only the questions drawn again are filled in). Nothing about the right answer is
    added: the marks say what the result page said already. An answer that no longer fits its
    question (an author removed a choice since) is left out rather than half shown.
    """
    outcomes = {}
    for outcome in attempt.results or []:
        if isinstance(outcome, dict) and "question_id" in outcome:
            outcomes[outcome["question_id"]] = outcome
    answers = attempt.answers if isinstance(attempt.answers, dict) else {}
    not_right = 0
    for question in questions:
        answer = answers.get(str(question.id))
        outcome = outcomes.get(question.id)
        if answer is None or outcome is None:
            continue
        choice_ids = {choice.id for choice in question.shown_choices}
        if question.kind in (Question.Kind.SINGLE, Question.Kind.TRUE_FALSE):
            if answer not in choice_ids:
                continue
            question.submitted = [str(answer)]
        elif question.kind == Question.Kind.MULTIPLE:
            if not isinstance(answer, list) or not answer or not set(answer) <= choice_ids:
                continue
            question.submitted = [str(choice_id) for choice_id in answer]
        elif question.kind in (Question.Kind.SHORT, Question.Kind.KUBECTL):
            if not isinstance(answer, str):
                continue
            question.submitted = [answer]
        elif question.kind == Question.Kind.ORDERING:
            if not isinstance(answer, list) or sorted(answer) != sorted(choice_ids):
                continue
            positions = {choice_id: position for position, choice_id in enumerate(answer, start=1)}
            for choice in question.shown_choices:
                choice.submitted_position = str(positions[choice.id])
        if not outcome.get("correct"):
            question.last_verdict = "partly" if outcome.get("score") else "wrong"
            not_right += 1
    return not_right


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


def quiz_passed(*, learner, quiz):
    """Whether ``learner`` passed ``quiz`` at least once."""
    return learner.records(QuizAttempt.objects.filter(quiz=quiz, passed=True)).exists()
