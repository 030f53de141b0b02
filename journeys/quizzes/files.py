"""Read and validate quiz files: ``NN-lesson.quiz.yaml`` beside a lesson, ``final-assessment.yaml`` per journey.

The file format is written for authors (``answer: true`` for a true/false question, ``steps:`` in
their right order for an ordering question); ``QuestionFile.choices`` is the stored form the
loader writes, so both directions of the round trip share one mapping.

What a quiz must satisfy beyond the shape of its file lives in ``quizzes.rules``, which Django
admin applies too: a quiz refused here is refused there, with the same rule.
"""

from dataclasses import dataclass, field

from .rules import KINDS, question_problems, quiz_problems

QUIZ_SUFFIX = ".quiz.yaml"
FINAL_ASSESSMENT_FILE = "final-assessment.yaml"

QUIZ_SCHEMA = {
    "title": ("str", False, "Check your understanding"),
    # Whole numbers whose bounds quizzes.rules states, with messages of their own.
    "pass_mark": ("number", False, 80),
    "reveal": ("str", False, "after_pass"),
    "reveal_after_attempts": ("number", False, 2),
    "draw": ("number", False, None),
    "published": ("bool", False, True),
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
    # Admin's Order field; in a file a question's place is its order, so it stays None.
    order: int | None = None


@dataclass
class QuizFile:
    source: str
    title: str
    pass_mark: int
    reveal: str
    reveal_after_attempts: int
    draw: int | None
    questions: list
    is_final: bool = False
    published: bool = True


def _choices(reader, values):
    """The choices of a choice question, with the line of each (for the rules' problems)."""
    choices, lines = [], []
    for position, item in enumerate(values["choices"], start=1):
        choice = reader.fields(item, CHOICE_SCHEMA, "a choice")
        if not choice:
            continue
        choices.append(ChoiceFile(choice["text"], choice["correct"], choice["feedback"], position))
        lines.append(item.line)
    return choices, lines


def _question(reader, item):
    kind = item.get("kind") if isinstance(item, dict) else None
    if kind not in KINDS:
        line = item.line_of("kind") if isinstance(item, dict) else getattr(item, "line", 1)
        reader.error(line, f"'kind' must be one of {', '.join(KINDS)}, not {kind!r}")
        return None
    errors_before = len(reader.errors)
    values = reader.fields(item, QUESTION_SCHEMAS[kind], f"a {kind} question")
    if values is None:
        return None
    question = QuestionFile(kind=kind, prompt=values["prompt"], explanation=values["explanation"])
    choice_lines = []
    if kind in ("single", "multiple"):
        question.partial_credit = values.get("partial_credit", False)
        question.choices, choice_lines = _choices(reader, values)
    elif kind == "true_false":
        question.wrong_feedback = values["feedback"]
        question.choices = [
            ChoiceFile("True", values["answer"] is True, "" if values["answer"] else values["feedback"], 1),
            ChoiceFile("False", values["answer"] is False, values["feedback"] if values["answer"] else "", 2),
        ]
    elif kind in ("short", "kubectl"):
        question.accepted_answers = values["answers"]
        question.answer_pattern = values.get("pattern", "")
        question.wrong_feedback = values["feedback"]
    elif kind == "ordering":
        question.wrong_feedback = values["feedback"]
        question.choices = [ChoiceFile(step, True, "", position) for position, step in enumerate(values["steps"], 1)]
    if len(reader.errors) > errors_before:
        # The shape is wrong, so some values above are defaults: the rules would only add
        # follow-on errors ("no accepted command" for answers that were not a list).
        return question
    # The same rules admin applies (quizzes.rules); here each problem points at its line.
    lines = {
        "choices": item.line_of("steps") if kind == "ordering" else item.line,
        "accepted_answers": item.line_of("answers"),
        "answer_pattern": item.line_of("pattern"),
    }
    for problem in question_problems(question):
        line = lines.get(problem.field, item.line)
        if problem.choice is not None and problem.choice < len(choice_lines):
            line = choice_lines[problem.choice]
        reader.error(line, problem.in_file)
    return question


def read_quiz(reader, data, source, *, final):
    """Validate one parsed quiz file; return a QuizFile or None (problems go to ``reader``)."""
    schema = QUIZ_SCHEMA if final else {key: value for key, value in QUIZ_SCHEMA.items() if key != "draw"}
    values = reader.fields(data, schema, "the quiz")
    if values is None:
        return None
    quiz = QuizFile(
        source=source,
        title=values["title"],
        pass_mark=values["pass_mark"],
        reveal=values["reveal"],
        reveal_after_attempts=values["reveal_after_attempts"],
        draw=values.get("draw"),
        questions=[],
        is_final=final,
        published=values["published"],
    )
    # A file is always checked as if it were published: it is loaded whole, never half written.
    for problem in quiz_problems(quiz, question_count=len(values["questions"])):
        reader.error(data.line_of(problem.field), problem.in_file)
    quiz.questions = [question for item in values["questions"] if (question := _question(reader, item))]
    return quiz


def quiz_to_file_data(quiz, questions):
    """The author-facing form of a stored quiz (for export); ``questions`` with their choices."""
    data = {"title": quiz.title, "pass_mark": quiz.pass_mark, "reveal": quiz.reveal}
    if not quiz.is_published:
        data["published"] = False
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
        # Written in admin, the reason may sit only on the wrong choice (which is what learners see).
        wrong = next((choice.feedback for choice in choices if not choice.is_correct and choice.feedback), "")
        data["feedback"] = question.wrong_feedback or wrong
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
