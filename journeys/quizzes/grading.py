"""Pure functions: a question and a submitted answer in, a score and feedback out.

Nothing here touches the database or HTTP, so every rule can be tested in isolation. The
question arrives as a ``QuestionSpec``: plain data built from the models by the caller.

A short answer's pattern is matched in bounded time (``answer_patterns``): however the pattern was
written, one answer costs at most ``MATCH_TIMEOUT`` of matching, and an answer it could not be
matched against in that time counts as not matched.
"""

import logging
from dataclasses import asdict, dataclass, field

from ..sandbox.schedules import WHITESPACE, ScheduleError, expand
from .answer_patterns import MATCH_TIMEOUT, PatternError, PatternTimeoutError, fullmatch_any
from .kubectl_command import CommandParseError, parse_kubectl, unknown_to_kubectl

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChoiceSpec:
    id: int
    text: str
    is_correct: bool
    feedback: str = ""
    order: int = 0


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    kind: str
    choices: tuple = ()
    partial_credit: bool = False
    accepted_answers: tuple = ()
    answer_pattern: str = ""
    wrong_feedback: str = ""


@dataclass
class Outcome:
    question_id: int
    score: float
    correct: bool
    # (choice id, feedback) for every chosen choice that has feedback: why it is right or wrong.
    choice_feedback: list = field(default_factory=list)
    missed_choice_ids: list = field(default_factory=list)
    message: str = ""
    canonical_answer: str = ""

    def as_dict(self):
        return asdict(self)


def normalise_text(text):
    """Case, surrounding quotes or backticks, a final full stop and runs of spaces do not matter."""
    text = " ".join(str(text).split()).strip().strip("`'\"").strip()
    return text.removesuffix(".").strip().casefold()


def grade_question(question, answer):
    grader = GRADERS[question.kind]
    return grader(question, answer)


def _grade_single(question, answer):
    chosen = next(choice for choice in question.choices if choice.id == answer)
    outcome = Outcome(question.id, 1.0 if chosen.is_correct else 0.0, chosen.is_correct)
    if chosen.feedback:
        outcome.choice_feedback.append((chosen.id, chosen.feedback))
    if not chosen.is_correct and question.wrong_feedback and not chosen.feedback:
        outcome.message = question.wrong_feedback
    return outcome


def _grade_multiple(question, answer):
    chosen = set(answer)
    correct = {choice.id for choice in question.choices if choice.is_correct}
    right, wrong = len(chosen & correct), len(chosen - correct)
    is_correct = chosen == correct
    if question.partial_credit:
        score = max(0.0, (right - wrong) / len(correct)) if correct else 0.0
    else:
        score = 1.0 if is_correct else 0.0
    outcome = Outcome(question.id, round(score, 4), is_correct)
    outcome.choice_feedback = [
        (choice.id, choice.feedback) for choice in question.choices if choice.id in chosen and choice.feedback
    ]
    outcome.missed_choice_ids = sorted(correct - chosen)
    return outcome


def schedule_meaning(text):
    """What a five-field cron schedule means (as the lab reads it), or None if ``text`` is not one.

    Only the five-field form marks an accepted answer as a schedule: a question whose answer is
    `@daily` may be asking for that very descriptor.
    """
    text = str(text).strip()
    if len([part for part in WHITESPACE.split(text) if part]) != 5:
        return None
    try:
        return expand(text)
    except ScheduleError:
        return None


def _schedule_text(answer):
    """A typed schedule without what `normalise_text` would also drop, but with its case (`@Daily` is refused)."""
    return " ".join(str(answer).split()).strip().strip("`'\"").strip().removesuffix(".").strip()


def _grade_short(question, answer):
    given = normalise_text(answer)
    accepted = {normalise_text(item) for item in question.accepted_answers}
    is_correct = given in accepted
    schedules = [meaning for item in question.accepted_answers if (meaning := schedule_meaning(item)) is not None]
    refusal = ""
    if not is_correct and schedules:
        # An accepted answer that is a cron schedule accepts every schedule that runs at the same times:
        # `0 2 * * 0-6` is `0 2 * * *`, as in the CronJob lab.
        try:
            is_correct = expand(_schedule_text(answer)) in schedules
        except ScheduleError as exc:
            refusal = f"Kubernetes would refuse this schedule: {exc.reason}."
    if not is_correct and question.answer_pattern:
        is_correct = _matches_pattern(question, (given, " ".join(str(answer).split())))
    outcome = Outcome(question.id, 1.0 if is_correct else 0.0, is_correct)
    outcome.canonical_answer = question.accepted_answers[0] if question.accepted_answers else ""
    if not is_correct:
        outcome.message = " ".join(part for part in (refusal, question.wrong_feedback) if part)
    return outcome


def _matches_pattern(question, texts):
    try:
        return fullmatch_any(question.answer_pattern, texts)
    except PatternTimeoutError:
        # quizzes.rules refuses a pattern that is slow on its probes; this one found an answer they missed.
        logger.warning(
            "The answer pattern of question %s took longer than %s s to match an answer; counted as not matched.",
            question.id,
            MATCH_TIMEOUT,
        )
    except PatternError as exc:  # a pattern quizzes.rules refuses, stored some other way
        logger.warning(
            "The answer pattern of question %s cannot be used (%s); counted as not matched.", question.id, exc
        )
    return False


def _grade_kubectl(question, answer):
    outcome = Outcome(question.id, 0.0, False, canonical_answer=question.accepted_answers[0])
    try:
        submitted = parse_kubectl(answer)
    except CommandParseError as exc:
        outcome.message = str(exc)
        return outcome
    accepted = []
    for text in question.accepted_answers:
        try:
            accepted.append(parse_kubectl(text))
        except CommandParseError:
            continue  # an author's typo must not make every answer wrong; validation reports it
    if submitted in accepted:
        outcome.score, outcome.correct = 1.0, True
    else:
        unknown = unknown_to_kubectl(submitted)  # kubectl itself would refuse the command: say so first
        advice = question.wrong_feedback or _kubectl_hint(submitted, accepted)
        outcome.message = " ".join(part for part in (unknown, advice) if part)
    return outcome


def _kubectl_hint(submitted, accepted):
    """Say which part differs from the closest accepted command, without giving the answer away."""
    if not accepted:
        return ""
    target = accepted[0]
    if submitted.words[:1] != target.words[:1]:
        return "Check the subcommand: this task needs a different kubectl verb."
    if submitted.words != target.words:
        return "The subcommand is right; check the resource type and name."
    if dict(submitted.flags).keys() != dict(target.flags).keys():
        return "The command is close: check which flags you used."
    return "The command is close: check the values of your flags."


def _grade_ordering(question, answer):
    expected = [choice.id for choice in sorted(question.choices, key=lambda choice: choice.order)]
    is_correct = list(answer) == expected
    outcome = Outcome(question.id, 1.0 if is_correct else 0.0, is_correct)
    if not is_correct:
        placed = sum(1 for given, right in zip(answer, expected, strict=False) if given == right)
        outcome.message = question.wrong_feedback or f"{placed} of {len(expected)} steps are in the right place."
    return outcome


GRADERS = {
    "single": _grade_single,
    "true_false": _grade_single,
    "multiple": _grade_multiple,
    "short": _grade_short,
    "kubectl": _grade_kubectl,
    "ordering": _grade_ordering,
}


def grade_quiz(questions, answers, *, pass_mark):
    """Grade every question; return (outcomes, score in percent, passed). ``answers`` maps id → answer."""
    outcomes = [grade_question(question, answers[question.id]) for question in questions]
    score = 100.0 * sum(outcome.score for outcome in outcomes) / len(outcomes) if outcomes else 0.0
    score = round(score, 2)
    return outcomes, score, score >= pass_mark
