"""Forms: curriculum editing in admin, quiz submissions, and accounts."""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

from .kubectl_command import CommandParseError, parse_accepted_command
from .markdown import find_references
from .models import GlossaryTerm, Lesson, Question

User = get_user_model()


class LinesField(forms.CharField):
    """A list of short texts edited as one item per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class LessonAdminForm(forms.ModelForm):
    objectives = LinesField(required=False, help_text="One objective per line.")
    takeaways = LinesField(required=False, help_text="One key takeaway per line.")

    class Meta:
        model = Lesson
        fields = [
            "module",
            "title",
            "slug",
            "order",
            "minutes",
            "is_published",
            "summary",
            "objectives",
            "body",
            "takeaways",
        ]

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n")
        module = self.cleaned_data.get("module")
        known_terms = set(GlossaryTerm.objects.values_list("slug", flat=True))
        known_lessons = set()
        if module is not None:
            known_lessons = set(Lesson.objects.filter(journey_id=module.journey_id).values_list("slug", flat=True))
        known_lessons.add(self.cleaned_data.get("slug") or (self.instance.slug if self.instance else ""))
        problems = []
        for reference in find_references(body):
            if reference.kind == "glossary" and reference.slug not in known_terms:
                problems.append(f"Line {reference.line}: there is no glossary term '{reference.slug}'.")
            elif reference.kind == "lesson" and reference.slug not in known_lessons:
                problems.append(f"Line {reference.line}: there is no lesson '{reference.slug}' in this journey.")
        if problems:
            raise ValidationError(problems)
        return body

    def clean(self):
        cleaned = super().clean()
        module, slug = cleaned.get("module"), cleaned.get("slug")
        if module is not None and slug:
            clash = Lesson.objects.filter(journey_id=module.journey_id, slug=slug).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("slug", "Another lesson of this journey already uses this slug.")
        return cleaned


# --- Quiz submissions ---

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


# --- Accounts ---


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this e-mail address already exists. Log in or reset your password.")
        return email


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Type your password to confirm. This cannot be undone.",
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError("That is not your password.")
        return password


class QuestionAdminForm(forms.ModelForm):
    accepted_answers = LinesField(
        required=False,
        help_text="Short answer and kubectl: one accepted answer per line; the first is shown as canonical.",
    )

    class Meta:
        model = Question
        fields = [
            "quiz", "order", "kind", "prompt", "explanation", "partial_credit", "accepted_answers", "answer_pattern",
            "wrong_feedback",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        answers = cleaned.get("accepted_answers") or []
        if kind == Question.Kind.KUBECTL:
            if not answers:
                self.add_error("accepted_answers", "A kubectl question needs at least one accepted command.")
            for answer in answers:
                try:
                    parse_accepted_command(answer)
                except CommandParseError as exc:
                    self.add_error("accepted_answers", f"{answer!r} cannot be read: {exc}")
        if kind == Question.Kind.SHORT and not answers and not cleaned.get("answer_pattern"):
            self.add_error("accepted_answers", "A short-answer question needs accepted answers or a pattern.")
        pattern = cleaned.get("answer_pattern")
        if pattern:
            try:
                re.compile(pattern)
            except re.error as exc:
                self.add_error("answer_pattern", f"This is not a valid regular expression: {exc}.")
        return cleaned


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """The rules of the quiz files, applied to choices edited in admin."""

    def clean(self):
        super().clean()
        kind = self.instance.kind
        rows = [form.cleaned_data for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        if kind not in Question.CHOICE_KINDS:
            return
        correct = sum(1 for row in rows if row.get("is_correct"))
        if correct == 0:
            raise ValidationError("Mark at least one choice as correct.")
        if kind in (Question.Kind.SINGLE, Question.Kind.TRUE_FALSE) and correct != 1:
            raise ValidationError("A single-choice or true/false question has exactly one correct choice.")
        if any(not row.get("is_correct") and not row.get("feedback", "").strip() for row in rows):
            raise ValidationError("Every wrong choice needs feedback that says why it is wrong.")
