"""A submitted quiz form read into answers, or refused with a message the learner can act on."""

import re

MAX_TEXT_ANSWER = 500
ANSWER_FIELD = re.compile(r"^q(\d+)(?:-(\d+))?$")
IGNORED_FIELDS = {"csrfmiddlewaretoken", "token"}


class QuizSubmissionError(Exception):
    """A submission that cannot be graded. ``status`` is 400 for tampering, 422 for a learner's slip."""

    def __init__(self, message, *, status=400, question_number=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.question_number = question_number


def _single_value(data, name, number):
    values = data.getlist(name)
    if len(values) > 1:
        raise QuizSubmissionError(f"Question {number} was sent more than one answer. Reload the page and try again.")
    return values[0] if values else ""


def _choice_id(value, question, number):
    valid = {choice.id for choice in question.choices}
    try:
        choice_id = int(value)
    except (TypeError, ValueError):
        raise QuizSubmissionError(f"Question {number} was sent an answer that is not one of its choices.") from None
    if choice_id not in valid:
        raise QuizSubmissionError(f"Question {number} was sent an answer that is not one of its choices.")
    return choice_id


def parse_quiz_answers(data, questions):
    """Turn POST data into {question id: answer}, or raise QuizSubmissionError with a learner-facing reason.

    ``questions`` are the QuestionSpecs of this attempt, in the order the learner saw them.
    """
    numbers = {question.id: number for number, question in enumerate(questions, start=1)}
    by_id = {question.id: question for question in questions}
    for name in data:
        if name in IGNORED_FIELDS:
            continue
        match = ANSWER_FIELD.match(name)
        if not match or int(match.group(1)) not in by_id:
            raise QuizSubmissionError("The form contained an answer to a question that is not in this quiz.")
        question = by_id[int(match.group(1))]
        if (match.group(2) is not None) != (question.kind == "ordering"):
            raise QuizSubmissionError(f"Question {numbers[question.id]} was sent an answer in the wrong form.")

    answers = {}
    for question in questions:
        number = numbers[question.id]
        name = f"q{question.id}"
        missing = QuizSubmissionError(
            f"Question {number} has no answer yet. Answer every question, then submit.",
            status=422,
            question_number=number,
        )
        if question.kind in ("single", "true_false"):
            value = _single_value(data, name, number)
            if not value:
                raise missing
            answers[question.id] = _choice_id(value, question, number)
        elif question.kind == "multiple":
            values = data.getlist(name)
            if not values:
                raise missing
            chosen = [_choice_id(value, question, number) for value in values]
            if len(set(chosen)) != len(chosen):
                raise QuizSubmissionError(f"Question {number} was sent the same choice twice.")
            answers[question.id] = sorted(chosen)
        elif question.kind in ("short", "kubectl"):
            value = _single_value(data, name, number).strip()
            if not value:
                raise missing
            if len(value) > MAX_TEXT_ANSWER:
                raise QuizSubmissionError(
                    f"Your answer to question {number} is longer than {MAX_TEXT_ANSWER} characters; shorten it.",
                    status=422,
                    question_number=number,
                )
            answers[question.id] = value
        elif question.kind == "ordering":
            answers[question.id] = _ordering_answer(data, question, number)
    return answers


def _ordering_answer(data, question, number):
    positions = {}
    for choice in question.choices:
        value = _single_value(data, f"q{question.id}-{choice.id}", number)
        if not value:
            raise QuizSubmissionError(
                f"Question {number}: give every step a position.", status=422, question_number=number
            )
        try:
            position = int(value)
        except ValueError:
            raise QuizSubmissionError(f"Question {number} was sent a position that is not a number.") from None
        if not 1 <= position <= len(question.choices):
            raise QuizSubmissionError(f"Question {number} was sent a position outside 1–{len(question.choices)}.")
        positions[choice.id] = position
    if len(set(positions.values())) != len(positions):
        raise QuizSubmissionError(
            f"Question {number}: each step needs a different position.", status=422, question_number=number
        )
    return [choice_id for choice_id, _ in sorted(positions.items(), key=lambda item: item[1])]
