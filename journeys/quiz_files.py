"""Read and validate quiz files: ``NN-lesson.quiz.yaml`` beside a lesson, ``final-assessment.yaml`` per journey.

The file format is written for authors (``answer: true`` for a true/false question, ``steps:`` in
their right order for an ordering question); ``QuestionFile.choices`` is the stored form the
loader writes, so both directions of the round trip share one mapping.
"""

import re
from dataclasses import dataclass, field

from .kubectl_command import CommandParseError, parse_accepted_command

QUIZ_SUFFIX = ".quiz.yaml"
FINAL_ASSESSMENT_FILE = "final-assessment.yaml"
KINDS = ("single", "multiple", "true_false", "short", "kubectl", "ordering")
REVEALS = ("after_pass", "after_attempts")

QUIZ_SCHEMA = {
    "title": ("str", False, "Check your understanding"),
    "pass_mark": ("int", False, 80),
    "reveal": ("str", False, "after_pass"),
    "reveal_after_attempts": ("int", False, 2),
    "draw": ("int", False, None),
    "questions": ("list", True, []),
}
COMMON = {"kind": ("str", True, ""), "prompt": ("text", True, ""), "explanation": ("text", True, "")}
QUESTION_SCHEMAS = {
    "single": {**COMMON, "choices": ("list", True, [])},
    "multiple": {**COMMON, "partial_credit": ("bool", False, False), "choices": ("list", True, [])},
    "true_false": {**COMMON, "answer": ("bool", True, True), "feedback": ("str", True, "")},
    "short": {
        **COMMON,
        "answers": ("strlist", False, []),
        "pattern": ("text", False, ""),
        "feedback": ("text", False, ""),
    },
    "kubectl": {**COMMON, "answers": ("strlist", True, []), "feedback": ("text", False, "")},
    "ordering": {**COMMON, "steps": ("strlist", True, []), "feedback": ("text", False, "")},
}
CHOICE_SCHEMA = {"text": ("str", True, ""), "correct": ("bool", False, False), "feedback": ("text", False, "")}


@dataclass
class ChoiceFile:
    text: str
    is_correct: bool
    feedback: str
    order: int


@dataclass
class QuestionFile:
    kind: str
    prompt: str
    explanation: str
    partial_credit: bool = False
    accepted_answers: list = field(default_factory=list)
    answer_pattern: str = ""
    wrong_feedback: str = ""
    choices: list = field(default_factory=list)


@dataclass
class QuizFile:
    source: str
    title: str
    pass_mark: int
    reveal: str
    reveal_after_attempts: int
    draw: int | None
    questions: list


def _choices(reader, question, values, kind):
    choices = []
    for position, item in enumerate(values["choices"], start=1):
        choice = reader.fields(item, CHOICE_SCHEMA, "a choice")
        if not choice:
            continue
        if not choice["correct"] and not choice["feedback"]:
            reader.error(item.line, "every wrong choice needs 'feedback' saying why it is wrong")
        choices.append(ChoiceFile(choice["text"], choice["correct"], choice["feedback"], position))
    correct = sum(choice.is_correct for choice in choices)
    if len(choices) < 2:
        reader.error(question.line, "a choice question needs at least two choices")
    elif correct == 0:
        reader.error(question.line, "this question has no correct choice; mark one with 'correct: true'")
    elif kind == "single" and correct > 1:
        reader.error(question.line, f"a single-choice question has exactly one correct choice, not {correct}")
    return choices


def _question(reader, item):
    kind = item.get("kind") if isinstance(item, dict) else None
    if kind not in KINDS:
        line = item.line_of("kind") if isinstance(item, dict) else getattr(item, "line", 1)
        reader.error(line, f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        return None
    values = reader.fields(item, QUESTION_SCHEMAS[kind], f"a {kind} question")
    if values is None:
        return None
    question = QuestionFile(kind=kind, prompt=values["prompt"], explanation=values["explanation"])
    if kind in ("single", "multiple"):
        question.partial_credit = values.get("partial_credit", False)
        question.choices = _choices(reader, item, values, kind)
    elif kind == "true_false":
        question.wrong_feedback = values["feedback"]
        question.choices = [
            ChoiceFile("True", values["answer"] is True, "" if values["answer"] else values["feedback"], 1),
            ChoiceFile("False", values["answer"] is False, values["feedback"] if values["answer"] else "", 2),
        ]
    elif kind == "short":
        question.accepted_answers = values["answers"]
        question.answer_pattern = values["pattern"]
        question.wrong_feedback = values["feedback"]
        if not question.accepted_answers and not question.answer_pattern:
            reader.error(item.line, "a short-answer question needs 'answers' or a 'pattern'")
        if question.answer_pattern:
            try:
                re.compile(question.answer_pattern)
            except re.error as exc:
                reader.error(item.line_of("pattern"), f"'pattern' is not a valid regular expression: {exc}")
    elif kind == "kubectl":
        question.accepted_answers = values["answers"]
        question.wrong_feedback = values["feedback"]
        if not question.accepted_answers:
            reader.error(item.line_of("answers"), "a kubectl question needs at least one accepted command in 'answers'")
        for answer in question.accepted_answers:
            try:
                parse_accepted_command(answer)
            except CommandParseError as exc:
                reader.error(item.line_of("answers"), f"the accepted command {answer!r} cannot be read: {exc}")
    elif kind == "ordering":
        question.wrong_feedback = values["feedback"]
        question.choices = [ChoiceFile(step, True, "", position) for position, step in enumerate(values["steps"], 1)]
        if len(question.choices) < 2:
            reader.error(item.line_of("steps"), "an ordering question needs at least two steps")
    return question


def read_quiz(reader, data, source, *, final):
    """Validate one parsed quiz file; return a QuizFile or None (problems go to ``reader``)."""
    schema = QUIZ_SCHEMA if final else {key: value for key, value in QUIZ_SCHEMA.items() if key != "draw"}
    values = reader.fields(data, schema, "the quiz")
    if values is None:
        return None
    if not 0 <= values["pass_mark"] <= 100:
        reader.error(data.line_of("pass_mark"), f"'pass_mark' must be between 0 and 100, not {values['pass_mark']}")
    if values["reveal"] not in REVEALS:
        reader.error(data.line_of("reveal"), f"'reveal' must be one of {', '.join(REVEALS)}, not {values['reveal']!r}")
    if values["reveal_after_attempts"] < 1:
        reader.error(data.line_of("reveal_after_attempts"), "'reveal_after_attempts' must be 1 or more")
    questions = [question for item in values["questions"] if (question := _question(reader, item))]
    if not values["questions"]:
        reader.error(data.line_of("questions"), "a quiz needs at least one question")
    draw = values.get("draw")
    if draw is not None and not 1 <= draw <= len(values["questions"]):
        reader.error(data.line_of("draw"), f"'draw' must be between 1 and the number of questions ({len(questions)})")
    return QuizFile(
        source=source,
        title=values["title"],
        pass_mark=values["pass_mark"],
        reveal=values["reveal"],
        reveal_after_attempts=values["reveal_after_attempts"],
        draw=draw,
        questions=questions,
    )


def quiz_to_file_data(quiz, questions):
    """The author-facing form of a stored quiz (for export); ``questions`` with their choices."""
    data = {"title": quiz.title, "pass_mark": quiz.pass_mark, "reveal": quiz.reveal}
    if quiz.reveal == "after_attempts":
        data["reveal_after_attempts"] = quiz.reveal_after_attempts
    if quiz.is_final and quiz.draw:
        data["draw"] = quiz.draw
    data["questions"] = [_question_to_file_data(question) for question in questions]
    return data


def _question_to_file_data(question):
    data = {"kind": question.kind, "prompt": question.prompt}
    choices = list(question.choices.all())
    if question.kind in ("single", "multiple"):
        if question.kind == "multiple":
            data["partial_credit"] = question.partial_credit
        data["choices"] = []
        for choice in choices:
            entry = {"text": choice.text}
            if choice.is_correct:
                entry["correct"] = True
            if choice.feedback:
                entry["feedback"] = choice.feedback
            data["choices"].append(entry)
    elif question.kind == "true_false":
        data["answer"] = any(choice.is_correct and choice.text == "True" for choice in choices)
        data["feedback"] = question.wrong_feedback
    elif question.kind in ("short", "kubectl"):
        data["answers"] = list(question.accepted_answers)
        if question.answer_pattern:
            data["pattern"] = question.answer_pattern
        if question.wrong_feedback:
            data["feedback"] = question.wrong_feedback
    elif question.kind == "ordering":
        data["steps"] = [choice.text for choice in sorted(choices, key=lambda choice: choice.order)]
        if question.wrong_feedback:
            data["feedback"] = question.wrong_feedback
    data["explanation"] = question.explanation
    return data
