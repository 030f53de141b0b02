"""The rules a quiz obeys wherever it is written: in a quiz file or in Django admin.

One source of truth. The rules read the *stored* form of a question — its kind, its choices (text,
correct, feedback, order), accepted answers and pattern — which is what the file reader builds
from a quiz file (``quizzes.files.QuestionFile``) and what admin edits (``Question`` and its
``Choice`` rows). ``load_journeys --check`` and every admin form therefore refuse exactly the same
quizzes. Only the advice differs: a file author edits keys, an editor in admin ticks boxes, so
each problem carries both phrasings side by side.

Nothing here touches the database: a question's choices may be a list or a related manager.
"""

from dataclasses import dataclass

from .answer_patterns import is_too_slow, syntax_problem
from .kubectl_command import CommandParseError, parse_accepted_command

KINDS = ("single", "multiple", "true_false", "short", "kubectl", "ordering")
CHOICE_KINDS = ("single", "multiple", "true_false")
REVEALS = ("after_pass", "after_attempts")
TRUE_FALSE_CHOICES = ["False", "True"]

# Bounds of every number a quiz holds: sane for a course, and well inside what the database stores
# (PostgreSQL's smallint stops at 32767: a file that passes the check must also load).
MAX_REVEAL_AFTER_ATTEMPTS = 100
MAX_DRAW = 100
MAX_ORDER = 10_000
# The lengths of the columns that hold these texts (models.py; a test keeps the two in step).
MAX_TITLE = 200
MAX_CHOICE_TEXT = 500
MAX_PATTERN = 300


def same_text_key(text):
    """Two texts a learner cannot tell apart: equal but for case and runs of spaces."""
    return " ".join(str(text or "").split()).casefold()


@dataclass(frozen=True)
class Problem:
    """One broken rule.

    ``field``: the stored field at fault (``choices``, ``accepted_answers``, ``answer_pattern``,
    ``pass_mark``, ``draw``, ``questions`` ...); ``choice``: the position (from 0) of the choice at
    fault in the list the rules were given, when it is one choice, and ``choice_field`` the field
    of that choice. ``in_file`` and ``in_admin`` say what is wrong and what to do, in the words of
    each place a quiz is written.
    """

    field: str
    in_file: str
    in_admin: str
    choice: int | None = None
    choice_field: str = ""


def _choices(question):
    choices = question.choices
    return list(choices.all() if hasattr(choices, "all") else choices)


def _kind_label(kind):
    return {
        "single": "single-choice",
        "multiple": "multiple-choice",
        "true_false": "true/false",
        "short": "short-answer",
        "kubectl": "kubectl",
        "ordering": "ordering",
    }.get(kind, str(kind))


def question_problems(question):
    """Every rule ``question`` breaks, as a list of Problems (empty when it can go live)."""
    kind = question.kind
    if kind not in KINDS:
        return []  # the kind itself is what to fix; the file schema and admin's field both say so
    choices = _choices(question)
    answers = [answer for answer in (question.accepted_answers or []) if str(answer).strip()]
    pattern = question.answer_pattern or ""
    label = _kind_label(kind)
    problems = []

    # A question in a file has no order of its own (its place in the file is its order).
    problems += order_problems(getattr(question, "order", None))

    if kind in CHOICE_KINDS:
        problems += _choice_problems(kind, choices)
    elif kind == "ordering":
        problems += _ordering_problems(choices)
    elif choices:
        problems.append(
            Problem(
                "choices",
                f"a {label} question has no choices",
                f"A {label} question has no choices: delete them, or change the kind of question.",
            )
        )

    if kind == "short":
        if not answers and not pattern:
            problems.append(
                Problem(
                    "accepted_answers",
                    "a short-answer question needs 'answers' or a 'pattern'",
                    "A short-answer question needs accepted answers or a pattern: "
                    "write each accepted answer on its own line, or give a pattern.",
                )
            )
    elif kind == "kubectl":
        if not answers:
            problems.append(
                Problem(
                    "accepted_answers",
                    "a kubectl question needs at least one accepted command in 'answers'",
                    "A kubectl question needs at least one accepted command: write each one on its own line.",
                )
            )
        for answer in answers:
            try:
                parse_accepted_command(answer)
            except CommandParseError as exc:
                problems.append(
                    Problem(
                        "accepted_answers",
                        f"the accepted command {answer!r} cannot be read: {exc}",
                        f"The accepted command “{answer}” cannot be read: {exc} Correct it, or delete that line.",
                    )
                )
    elif answers:
        problems.append(
            Problem(
                "accepted_answers",
                f"a {label} question has no 'answers'",
                f"Only short-answer and kubectl questions have accepted answers: clear them for a {label} question.",
            )
        )

    if len(pattern) > MAX_PATTERN:
        problems.append(
            Problem(
                "answer_pattern",
                f"'pattern' is at most {MAX_PATTERN} characters long, not {len(pattern)}",
                f"A pattern is at most {MAX_PATTERN} characters long (this one has {len(pattern)}): shorten it.",
            )
        )
    elif pattern:
        if kind != "short":
            problems.append(
                Problem(
                    "answer_pattern",
                    f"a {label} question has no 'pattern'",
                    "Only a short-answer question uses a pattern: clear it, or change the kind of question.",
                )
            )
        elif invalid := syntax_problem(pattern):
            problems.append(
                Problem(
                    "answer_pattern",
                    f"'pattern' is not a valid regular expression: {invalid}",
                    f"This is not a valid regular expression ({invalid}): correct it, "
                    "or clear it and list the accepted answers instead.",
                )
            )
        elif is_too_slow(pattern):
            problems.append(
                Problem(
                    "answer_pattern",
                    "'pattern' takes too long to check some answers: a repeated part can match the same text in "
                    "more than one way, as in (a|aa)+ or (\\w|[a-z])+; give each repeated part one way to match, "
                    "or list the accepted 'answers' instead",
                    "This pattern takes too long to check some answers: a repeated part can match the same text "
                    "in more than one way, as in (a|aa)+ or (\\w|[a-z])+. Give each repeated part one way to match, "
                    "or clear the pattern and list the accepted answers instead.",
                )
            )
    return problems


def order_problems(order):
    """The rule of a question's Order (admin shows it beside the field, draft or not)."""
    if order is None or 0 <= order <= MAX_ORDER:
        return []
    return [
        Problem(
            "order",
            f"'order' must be between 0 and {MAX_ORDER}, not {order}",
            f"Order must be a whole number from 0 to {MAX_ORDER}.",
        )
    ]


def _each_choice_problems(kind, choices):
    """The rules of each choice or step on its own: its order in range, its text unlike the others'."""
    problems, seen = [], set()
    step = kind == "ordering"
    for position, choice in enumerate(choices):
        length = len(choice.text or "")
        if length > MAX_CHOICE_TEXT:
            problems.append(
                Problem(
                    "choices",
                    f"the text of a {'step' if step else 'choice'} is at most {MAX_CHOICE_TEXT} characters long, "
                    f"not {length}",
                    f"The text of a {'step' if step else 'choice'} is at most {MAX_CHOICE_TEXT} characters long "
                    f"(this one has {length}): shorten it.",
                    choice=position,
                    choice_field="text",
                )
            )
        order = choice.order
        if order is not None and not 0 <= order <= MAX_ORDER:
            problems.append(
                Problem(
                    "choices",
                    f"a question has at most {MAX_ORDER} {'steps' if step else 'choices'}",
                    f"Order must be a whole number from 0 to {MAX_ORDER}.",
                    choice=position,
                    choice_field="order",
                )
            )
        key = same_text_key(choice.text)
        if kind != "true_false" and key in seen:
            problems.append(_same_text_problem(" ".join(str(choice.text).split()), position, step=step))
        seen.add(key)
    return problems


def _same_text_problem(text, position, *, step):
    if step:
        in_file = f"two steps read {text!r} (case and spaces aside): a learner cannot tell which goes where; reword one"
        in_admin = f"Two steps read “{text}”: a learner cannot tell which goes where. Reword one."
    else:
        in_file = (
            f"two choices read {text!r} (case and spaces aside): a learner cannot tell them apart; "
            "reword one, or remove it"
        )
        in_admin = f"Two choices read “{text}”: a learner cannot tell them apart. Reword one, or delete it."
    return Problem("choices", in_file, in_admin, choice=position, choice_field="text")


def _choice_problems(kind, choices):
    problems = _each_choice_problems(kind, choices)
    for position, choice in enumerate(choices):
        if not choice.is_correct and not (choice.feedback or "").strip():
            problems.append(
                Problem(
                    "choices",
                    "every wrong choice needs 'feedback' saying why it is wrong",
                    f"The wrong choice “{choice.text}” needs feedback saying why it is wrong.",
                    choice=position,
                    choice_field="feedback",
                )
            )
    correct = sum(bool(choice.is_correct) for choice in choices)
    if kind == "true_false":
        if sorted(choice.text for choice in choices) != TRUE_FALSE_CHOICES:
            problems.append(
                Problem(
                    "choices",
                    "a true/false question has exactly two choices, True and False",
                    "A true/false question has exactly two choices, “True” and “False”: "
                    "name them so and delete any other.",
                )
            )
        elif correct != 1:
            problems.append(
                Problem(
                    "choices",
                    "exactly one of True and False is the answer",
                    "Exactly one of “True” and “False” is correct: tick Correct on that one only.",
                )
            )
    elif len(choices) < 2:
        problems.append(
            Problem(
                "choices",
                "a choice question needs at least two choices",
                f"A {_kind_label(kind)} question needs at least two choices: add them under Choices.",
            )
        )
    elif correct == 0:
        which = "the right one" if kind == "single" else "each right one"
        problems.append(
            Problem(
                "choices",
                "this question has no correct choice; mark one with 'correct: true'",
                f"This question has no correct choice: tick Correct on {which}.",
            )
        )
    elif kind == "single" and correct > 1:
        problems.append(
            Problem(
                "choices",
                f"a single-choice question has exactly one correct choice, not {correct}",
                f"A single-choice question has exactly one correct choice, not {correct}: "
                "untick Correct on all but one, or make it a multiple-choice question.",
            )
        )
    return problems


def _ordering_problems(choices):
    if len(choices) < 2:
        return [
            Problem(
                "choices",
                "an ordering question needs at least two steps",
                "An ordering question needs at least two steps: add them under Choices, "
                "each with its place in the right order under Order.",
            )
        ]
    problems, seen = _each_choice_problems("ordering", choices), set()
    for position, choice in enumerate(choices):
        if choice.order in seen:
            problems.append(
                Problem(
                    "choices",
                    f"two steps share the position {choice.order}",
                    f"Two steps have the Order {choice.order}: give every step its own place (1, 2, 3 ...).",
                    choice=position,
                    choice_field="order",
                )
            )
        seen.add(choice.order)
    return problems


def quiz_problems(quiz, *, question_count=None):
    """The rules of the quiz itself. ``question_count``: when given, the rules that need the
    questions too (a quiz goes live with at least one; ``draw`` cannot exceed them)."""
    problems = []
    pass_mark, reveal, after = quiz.pass_mark, quiz.reveal, quiz.reveal_after_attempts
    if len(quiz.title or "") > MAX_TITLE:
        problems.append(
            Problem(
                "title",
                f"'title' is at most {MAX_TITLE} characters long, not {len(quiz.title)}",
                f"A title is at most {MAX_TITLE} characters long (this one has {len(quiz.title)}): shorten it.",
            )
        )
    if pass_mark is not None and not 0 <= pass_mark <= 100:
        problems.append(
            Problem(
                "pass_mark",
                f"'pass_mark' must be between 0 and 100, not {pass_mark}",
                "The pass mark is a percentage: use a whole number from 0 to 100.",
            )
        )
    if reveal is not None and reveal not in REVEALS:
        problems.append(
            Problem(
                "reveal",
                f"'reveal' must be one of {', '.join(REVEALS)}, not {reveal!r}",
                "Choose when the answers are revealed.",
            )
        )
    if after is not None and after < 1:
        problems.append(
            Problem(
                "reveal_after_attempts",
                "'reveal_after_attempts' must be 1 or more",
                "Reveal the answers after 1 attempt or more.",
            )
        )
    elif after is not None and after > MAX_REVEAL_AFTER_ATTEMPTS:
        problems.append(
            Problem(
                "reveal_after_attempts",
                f"'reveal_after_attempts' must be between 1 and {MAX_REVEAL_AFTER_ATTEMPTS}, not {after}",
                f"Reveal the answers after 1 to {MAX_REVEAL_AFTER_ATTEMPTS} attempts.",
            )
        )
    draw = quiz.draw
    if draw is not None:
        if not quiz.is_final:
            problems.append(
                Problem(
                    "draw",
                    "'draw' is only for a final assessment",
                    "Only a final assessment draws questions at random: leave Draw empty for a lesson's quiz.",
                )
            )
        elif draw < 1:
            problems.append(
                Problem(
                    "draw",
                    "'draw' must be 1 or more (leave it out to ask every question)",
                    "Draw must be 1 or more: change it, or leave it empty to ask every question.",
                )
            )
        elif draw > MAX_DRAW:
            problems.append(
                Problem(
                    "draw",
                    f"'draw' must be at most {MAX_DRAW} (leave it out to ask every question)",
                    f"A final assessment draws at most {MAX_DRAW} questions: lower Draw, "
                    "or leave it empty to ask every question.",
                )
            )
        elif question_count is not None and draw > question_count:
            problems.append(
                Problem(
                    "draw",
                    f"'draw' must be between 1 and the number of questions ({question_count})",
                    f"The quiz draws {draw} questions at random but has only {question_count}: "
                    "lower Draw, or add questions.",
                )
            )
    if question_count == 0:
        problems.append(
            Problem(
                "questions",
                "a quiz needs at least one question",
                "A published quiz needs at least one question: add one, or untick Published to keep the quiz a draft.",
            )
        )
    return problems


def count_problems(quiz, question_count):
    """Only the rules that depend on how many questions the quiz has."""
    without = set(quiz_problems(quiz))
    return [problem for problem in quiz_problems(quiz, question_count=question_count) if problem not in without]


@dataclass(frozen=True)
class StoredProblem:
    """A problem of a stored quiz; ``question`` is None for the quiz's own rules."""

    question: object
    problem: Problem

    def __str__(self):
        if self.question is None:
            return self.problem.in_admin
        return f"{question_name(self.question)}: {self.problem.in_admin}"


def question_name(question):
    """How a message names a question: its place in the quiz and the start of its prompt."""
    prompt = " ".join((question.prompt or "").split())
    if len(prompt) > 60:
        prompt = prompt[:59].rstrip() + "…"
    return f"Question {question.order} “{prompt}”"


def stored_quiz_problems(quiz, questions=None):
    """Everything that keeps a stored quiz from going live: its own rules and each question's.

    ``questions``: the quiz's questions with their choices, when the caller has them already.
    """
    if questions is None:
        questions = list(quiz.questions.order_by("order", "id").prefetch_related("choices"))
    found = [StoredProblem(None, problem) for problem in quiz_problems(quiz, question_count=len(questions))]
    for question in questions:
        found += [StoredProblem(question, problem) for problem in question_problems(question)]
    return found
