"""Admin's forms: lessons, quizzes, questions and choices, checked by the same rules as the files."""

import json
from types import SimpleNamespace

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction

from .curriculum.markdown import find_references, normalize_source, render_markdown
from .models import Choice, GlossaryTerm, Journey, Lesson, Question, Quiz
from .quizzes.files import ChoiceFile, QuestionFile
from .quizzes.rules import count_problems, order_problems, question_name, question_problems, quiz_problems


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


class MarkdownEditor(forms.Textarea):
    """A tall, fixed-width box for a lesson's Markdown (about 8,000 characters): code and tables line up."""

    def __init__(self, attrs=None):
        defaults = {"rows": 32, "cols": 100, "class": "markdown-editor", "spellcheck": "true"}
        super().__init__({**defaults, **(attrs or {})})


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
        widgets = {"body": MarkdownEditor()}

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


# --- A lesson's preview, from the text being edited ---

# Lessons are about 8,000 characters; a preview of many times that is refused, not rendered.
PREVIEW_MAX_CHARACTERS = 200_000


class PreviewTooLargeError(ValueError):
    pass


def lesson_preview(data, instance=None):
    """(lesson, problems): an unsaved lesson drawn from ``data`` (the lesson form's post) as the site would
    render it, and what saving it would refuse. Nothing is stored: the lesson is never saved.

    The text is shown as typed even where saving would refuse it (an unknown glossary term shows as plain
    text, a link to an unknown lesson as a broken link), so an author sees the whole draft at once.
    """

    # A NUL byte cannot be stored (saving refuses it, and says so); shown, it is the replacement character.
    def shown(name):
        return str(data.get(name, "")).replace("\x00", "\ufffd")

    body = normalize_source(shown("body"))
    if len(body) > PREVIEW_MAX_CHARACTERS:
        raise PreviewTooLargeError(
            f"The lesson text is {len(body):,} characters long; a preview shows at most "
            f"{PREVIEW_MAX_CHARACTERS:,} (lessons are usually under 10,000). Shorten it or split it into two lessons."
        )
    form = LessonAdminForm(data=data, instance=instance)
    problems = []
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            problems += [f"{label}: {error}" if label else str(error) for error in errors]
    lesson = form.instance  # the posted values that were valid, on a copy that is never saved
    lesson.title = shown("title").strip()[:200] or "Untitled lesson"
    lesson.summary = shown("summary").strip()
    lesson.body = body
    for name in ("objectives", "takeaways"):
        lines = shown(name).splitlines()
        setattr(lesson, name, [line.strip() for line in lines if line.strip()])
    module = lesson.module if lesson.module_id else None
    glossary = GlossaryTerm.objects.as_entries()
    if module is not None:
        known = set(Lesson.objects.filter(journey_id=module.journey_id).values_list("slug", flat=True))
        known.add(lesson.slug)
        rendered = render_markdown(body, journey_slug=module.journey.slug, glossary=glossary, known_lessons=known)
    else:  # no module chosen yet: no journey for lesson links to point into
        rendered = render_markdown(body, glossary=glossary, known_lessons=set())
    lesson.body_html, lesson.toc = rendered.html, rendered.toc
    return lesson, problems


# --- Quizzes in admin ---
#
# Every rule comes from quizzes.rules, the module the quiz files are checked with: admin refuses
# exactly what `load_journeys --check` refuses. The forms only decide where a message shows.
#
# A page may be stale (loaded before a colleague added a question or a choice) or its management
# form tampered with, so a page's rows are not the whole story: the rules are applied to the state
# the save leaves behind, the stored rows the post leaves alone included. Each form also locks the
# quiz it changes (PostgreSQL; SQLite writes one at a time anyway), so two editors' checks and
# saves of one quiz happen one after the other, each against what the other stored.

QUESTION_FIELDS = ("order", "accepted_answers", "answer_pattern")


def _stored_question(values, choices):
    """The stored form of a question (what quizzes.rules reads) from admin's cleaned values."""
    return QuestionFile(
        kind=values.get("kind") or "",
        prompt=values.get("prompt") or "",
        explanation=values.get("explanation") or "",
        partial_credit=bool(values.get("partial_credit")),
        accepted_answers=list(values.get("accepted_answers") or []),
        answer_pattern=values.get("answer_pattern") or "",
        wrong_feedback=values.get("wrong_feedback") or "",
        choices=choices,
        order=values.get("order"),
    )


def _lock(model, *pks):
    """Lock these rows until the admin page's transaction ends (only inside one: admin saves atomically)."""
    pks = sorted({pk for pk in pks if pk is not None})
    if pks and transaction.get_connection().in_atomic_block:
        list(model.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk", flat=True))


def _not_on_the_page(names, what):
    listed = ", ".join(names)
    return (
        f"The page did not show {listed}: {'it was' if len(names) == 1 else 'they were'} probably added since "
        f"the page was loaded. Reload the page to see every {what}, then make your change again."
    )


def _removal_problems(quiz, questions_left, what):
    """Messages when taking questions out of a published ``quiz`` would break its rules."""
    if quiz is None or not quiz.is_published:
        return []
    return [
        f"{what} would leave the published quiz “{quiz}” with {questions_left} "
        f"question{'s' if questions_left != 1 else ''}. {problem.in_admin}"
        for problem in count_problems(quiz, questions_left)
    ]


def question_removal_problems(questions):
    """Why deleting ``questions`` (Question rows) is refused: a published quiz would break its rules."""
    messages = []
    by_quiz = {}
    for question in questions:
        by_quiz.setdefault(question.quiz_id, []).append(question.pk)
    for quiz in Quiz.objects.filter(pk__in=by_quiz):
        left = quiz.questions.exclude(pk__in=by_quiz[quiz.pk]).count()
        messages += _removal_problems(quiz, left, "Deleting it" if len(questions) == 1 else "Deleting them")
    return messages


class QuizAdminForm(forms.ModelForm):
    # Plain numbers: the range is a rule of quizzes.rules, which words the message for editors.
    pass_mark = forms.IntegerField(initial=80, help_text="Percent needed to pass, from 0 to 100.")
    reveal_after_attempts = forms.IntegerField(
        initial=2, help_text="Used when answers are revealed after a number of attempts, from 1 to 100."
    )

    class Meta:
        model = Quiz
        fields = [
            "journey", "lesson", "is_final", "title", "is_published", "pass_mark", "reveal", "reveal_after_attempts",
            "draw",
        ]  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        _lock(Quiz, self.instance.pk)  # before its questions are read (QuestionInlineFormSet)
        if cleaned.get("is_final") and cleaned.get("lesson"):
            self.add_error("lesson", "A final assessment belongs to the journey, not to a lesson: clear Lesson.")
        elif not cleaned.get("is_final") and cleaned.get("lesson") is None and "lesson" not in self.errors:
            self.add_error("lesson", "A lesson's quiz needs its lesson: choose it, or tick Final assessment.")
        elif cleaned.get("is_final") and cleaned.get("journey") is not None:
            self._one_final_assessment(cleaned["journey"])
        quiz = SimpleNamespace(**{name: cleaned.get(name) for name in self.Meta.fields})
        for problem in quiz_problems(quiz):
            if problem.field in self.fields and problem.field not in self.errors:
                self.add_error(problem.field, problem.in_admin)
        return cleaned

    def _one_final_assessment(self, journey):
        """A journey has one final assessment (a database constraint, whose own message names only itself)."""
        _lock(Journey, journey.pk)  # two editors ticking Final assessment at once: the second is told
        other = Quiz.objects.filter(journey=journey, is_final=True).exclude(pk=self.instance.pk).first()
        if other is not None:
            self.add_error(
                "is_final",
                f"The journey “{journey}” already has a final assessment, “{other.title}”, and a journey has only "
                "one: untick Final assessment, or change that one instead.",
            )


class QuestionInlineFormSet(forms.BaseInlineFormSet):
    """The questions of a quiz, edited on the quiz's page.

    A question's choices and accepted answers are edited on its own page, so a question added
    here is usually unfinished: that is fine for a draft quiz, and refused, naming the question,
    for a published one.
    """

    def clean(self):
        super().clean()
        quiz = self.instance
        kept = [form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]
        for form in kept:  # a number out of range is refused in a draft too
            if "order" not in form.errors:
                for problem in order_problems(form.cleaned_data.get("order")):
                    form.add_error("order", problem.in_admin)
        if not quiz.is_published or any(form.errors for form in kept):
            return
        # The questions the post leaves alone count too: a stale page does not list them.
        posted = {form.instance.pk for form in self.initial_forms if form.instance.pk}
        left_alone = list(quiz.questions.exclude(pk__in=posted).prefetch_related("choices")) if quiz.pk else []
        messages = [problem.in_admin for problem in count_problems(quiz, len(kept) + len(left_alone))]
        unfinished, unfinished_new, unseen = [], False, []
        for form in kept:
            question = form.instance
            choices = list(question.choices.all()) if question.pk else []
            for problem in question_problems(_stored_question(vars(question), choices)):
                unfinished.append(f"{question_name(question)}: {problem.in_admin}")
                unfinished_new = unfinished_new or not question.pk
        for question in left_alone:
            problems = question_problems(question)
            unfinished += [f"{question_name(question)}: {problem.in_admin}" for problem in problems]
            if problems:
                unseen.append(question_name(question))
        if unseen:
            unfinished.append(_not_on_the_page(unseen, "question"))
        if unfinished_new:
            unfinished.append(
                "A question added here gets its choices and accepted answers on its own page: untick Published, "
                "save the quiz as a draft, then open the question (its Change link) and publish the quiz when "
                "every question is complete."
            )
        elif unfinished:
            unfinished.append(
                "Fix each question on its own page (its Change link), or untick Published to keep the quiz "
                "a draft while you do."
            )
        if messages or unfinished:
            raise ValidationError(messages + unfinished)


# Which kinds of question use each of the kind-dependent fields (the choices are an inline, "choices").
# Admin shows only these for a question's kind: get_fieldsets on the server, js/admin-question.js on change.
KIND_FIELDS = {
    "partial_credit": [Question.Kind.MULTIPLE],
    "accepted_answers": [Question.Kind.SHORT, Question.Kind.KUBECTL],
    "answer_pattern": [Question.Kind.SHORT],
    "wrong_feedback": [Question.Kind.TRUE_FALSE, Question.Kind.SHORT, Question.Kind.KUBECTL, Question.Kind.ORDERING],
    "choices": [*sorted(Question.CHOICE_KINDS), Question.Kind.ORDERING],
}


def kind_field_groups(kind, values):
    """(used, unused): the kind-dependent fields a question of ``kind`` uses, and the others.

    A field the kind does not use still counts as used while ``values`` gives it a value: saving would
    refuse it, so the author must see it to clear it. An unknown kind (a new question) uses every field.
    """
    names = [name for name in KIND_FIELDS if name != "choices"]
    if kind not in Question.Kind.values:
        return names, []
    used = [name for name in names if kind in KIND_FIELDS[name] or values.get(name)]
    return used, [name for name in names if name not in used]


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = {name: [str(kind) for kind in kinds] for name, kinds in KIND_FIELDS.items()}
        self.fields["kind"].widget.attrs["data-kind-fields"] = json.dumps(kinds)

    def clean(self):
        cleaned = super().clean()
        old_quiz = self.instance.quiz if self.instance.pk and self.instance.quiz_id else None
        new_quiz = cleaned.get("quiz")
        # Before the choices are read (ChoiceInlineFormSet): one editor's check and save at a time.
        _lock(Quiz, getattr(old_quiz, "pk", None), getattr(new_quiz, "pk", None))
        # The choices are checked with the rest of the question by ChoiceInlineFormSet, which sees them.
        for problem in question_problems(_stored_question(cleaned, [])):
            if problem.field in QUESTION_FIELDS and problem.field not in self.errors:
                self.add_error(problem.field, problem.in_admin)
        if old_quiz is not None and new_quiz is not None and new_quiz.pk != old_quiz.pk:
            left = old_quiz.questions.exclude(pk=self.instance.pk).count()
            for message in _removal_problems(old_quiz, left, "Moving this question to another quiz"):
                self.add_error("quiz", message)
        return cleaned


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """The choices of a question, checked together with the question (its kind, its answers).

    What is checked is what the save leaves: the rows on the page without those marked for
    deletion (so deleting a choice that the question needs, its only correct one or one of its last
    two, is refused like any other broken rule), and the stored choices the page did not post.
    """

    def clean(self):
        super().clean()
        kept = [form for form in self.forms if form.cleaned_data and not self._should_delete_form(form)]
        if any(form.errors for form in kept):
            return  # the rows themselves first
        choices = [
            ChoiceFile(
                text=form.cleaned_data.get("text", ""),
                is_correct=bool(form.cleaned_data.get("is_correct")),
                feedback=form.cleaned_data.get("feedback", ""),
                order=form.cleaned_data.get("order", 0),
            )
            for form in kept
        ]
        question = self.instance
        posted = {form.instance.pk for form in self.initial_forms if form.instance.pk}
        left_alone = list(Choice.objects.filter(question=question).exclude(pk__in=posted)) if question.pk else []
        choices += [ChoiceFile(choice.text, choice.is_correct, choice.feedback, choice.order) for choice in left_alone]
        whole = []
        for problem in question_problems(_stored_question(vars(question), choices)):
            if problem.field != "choices":
                continue  # shown beside its own field by QuestionAdminForm
            if problem.choice is not None and problem.choice < len(kept):
                kept[problem.choice].add_error(problem.choice_field or None, problem.in_admin)
            else:
                whole.append(problem.in_admin)
        if left_alone and (whole or any(form.errors for form in kept)):
            whole.append(_not_on_the_page([f"the choice “{choice.text}”" for choice in left_alone], "choice"))
        if whole:
            raise ValidationError(whole)
