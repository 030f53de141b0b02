"""The curriculum: Journey → Module → Lesson, and the glossary shared by every journey.

Markdown fields are rendered to sanitized HTML on save (see ``journeys.markdown``) and the
result is stored, so pages never run Markdown per request.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from . import markdown as lesson_markdown
from .content_rules import docs_site_name, validate_docs_url, validate_kubernetes_version

SLUG_HELP = "Lowercase letters, digits and hyphens; part of the page address."


def can_preview_drafts(user):
    return bool(user is not None and user.is_active and user.is_staff)


class CurriculumQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Bulk updates (admin's publish action, scripts) send no signals; cached reads must still see them.
        from .content_cache import content_changed

        count = super().update(**kwargs)
        content_changed()
        return count


class VisibilityQuerySet(CurriculumQuerySet):
    def published(self):
        return self.filter(is_published=True)

    def visible_to(self, user):
        """Staff preview drafts; everyone else sees published content only."""
        return self if can_preview_drafts(user) else self.published()


class Journey(models.Model):
    slug = models.SlugField(unique=True, help_text=SLUG_HELP)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="One or two sentences shown on the home page.")
    description = models.TextField(blank=True, help_text="Markdown shown at the top of the journey page.")
    description_html = models.TextField(blank=True, editable=False)
    kubernetes_version = models.CharField(
        "Kubernetes version",
        max_length=10,
        blank=True,
        validators=[validate_kubernetes_version],
        help_text='The release whose documentation the lessons were checked against, such as "1.34". '
        "Shown on the journey and lesson pages.",
    )
    order = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField("published", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.description = lesson_markdown.normalize_source(self.description)
        self.description_html = lesson_markdown.render_markdown(self.description, journey_slug=self.slug).html
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("journeys:journey", kwargs={"journey_slug": self.slug})


class Module(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(help_text=SLUG_HELP)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    objects = CurriculumQuerySet.as_manager()

    class Meta:
        ordering = ["journey", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "slug"], name="module_slug_unique_in_journey"),
        ]

    def __str__(self):
        return f"{self.journey.title} › {self.title}"

    def get_absolute_url(self):
        return f"{self.journey.get_absolute_url()}#module-{self.slug}"


class LessonQuerySet(VisibilityQuerySet):
    def visible_to(self, user):
        if can_preview_drafts(user):
            return self
        return self.published().filter(journey__is_published=True)

    def in_outline_order(self):
        return self.order_by("module__order", "module_id", "order", "id")


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    # Copied from the module on save: lesson slugs are unique per journey, which a database
    # constraint can only enforce when the journey sits on the lesson row itself.
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="lessons", editable=False)
    slug = models.SlugField(help_text=SLUG_HELP)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="Shown on the journey page and in search results.")
    minutes = models.PositiveIntegerField("estimated minutes", default=10)
    objectives = models.JSONField(default=list, blank=True)
    takeaways = models.JSONField(default=list, blank=True)
    body = models.TextField(help_text="Markdown. [[term]] marks a glossary term; (lesson:slug) links a lesson.")
    body_html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    order = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField("published", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["module__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "slug"], name="lesson_slug_unique_in_journey"),
        ]
        indexes = [models.Index(fields=["journey", "is_published"])]

    def __str__(self):
        return self.title

    def save(self, *args, render=True, **kwargs):
        self.journey_id = self.module.journey_id
        # Browsers submit textareas with CRLF; files and exports use LF.
        self.body = lesson_markdown.normalize_source(self.body)
        if render:
            self.render()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return lesson_markdown.lesson_url(self.journey.slug, self.slug)

    def render(self, *, glossary=None, known_lessons=None):
        """Refresh the stored HTML, table of contents and search text from the Markdown body."""
        if glossary is None:
            glossary = GlossaryTerm.objects.as_entries()
        if known_lessons is None:
            known_lessons = set(Lesson.objects.filter(journey_id=self.journey_id).values_list("slug", flat=True))
            known_lessons.add(self.slug)
        rendered = lesson_markdown.render_markdown(
            self.body, journey_slug=self.journey.slug, glossary=glossary, known_lessons=known_lessons
        )
        self.body_html = rendered.html
        self.toc = rendered.toc
        self.search_text = " ".join([self.title, self.summary, *self.objectives, rendered.text, *self.takeaways])


class HttpsURLField(models.URLField):
    """A URL field whose form treats an address typed without a scheme as https (Django 6's default)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class GlossaryQuerySet(CurriculumQuerySet):
    def as_entries(self):
        return {
            slug: lesson_markdown.GlossaryEntry(slug, term, definition)
            for slug, term, definition in self.values_list("slug", "term", "definition")
        }


class GlossaryTerm(models.Model):
    slug = models.SlugField(unique=True, help_text=SLUG_HELP)
    term = models.CharField(max_length=120)
    definition = models.TextField(help_text="Plain text, one to three sentences; shown in tooltips.")
    docs_url = HttpsURLField(
        "documentation link",
        max_length=300,
        blank=True,
        validators=[validate_docs_url],
        help_text="The page about this term in the official documentation: https://kubernetes.io/... "
        "(https://helm.sh/... for Helm terms). Shown in the glossary.",
    )

    objects = GlossaryQuerySet.as_manager()

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def get_absolute_url(self):
        return lesson_markdown.glossary_url(self.slug)

    @property
    def docs_site(self):
        """Whose documentation ``docs_url`` belongs to, for the link text."""
        return docs_site_name(self.docs_url)

    def lessons_mentioning(self):
        return Lesson.objects.filter(Q(body__contains=f"[[{self.slug}]]") | Q(body__contains=f"[[{self.slug}|"))


class ContentSource(models.Model):
    """A curriculum file as last loaded, so an unchanged file does not overwrite edits made in admin."""

    path = models.CharField(max_length=500, unique=True)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.path


# --- Quizzes ---


class Quiz(models.Model):
    class Reveal(models.TextChoices):
        AFTER_PASS = "after_pass", "After the learner passes"
        AFTER_ATTEMPTS = "after_attempts", "After a number of attempts"

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="quizzes")
    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, related_name="quiz", null=True, blank=True)
    is_final = models.BooleanField(
        "final assessment", default=False, help_text="The journey's final assessment (needed for the certificate)."
    )
    title = models.CharField(max_length=200, default="Check your understanding")
    pass_mark = models.PositiveSmallIntegerField(
        default=80, validators=[MinValueValidator(0), MaxValueValidator(100)], help_text="Percent needed to pass."
    )
    reveal = models.CharField("reveal answers", max_length=20, choices=Reveal.choices, default=Reveal.AFTER_PASS)
    reveal_after_attempts = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1)], help_text="Used when answers are revealed after attempts."
    )
    draw = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Final assessment only: questions drawn at random per attempt; empty means all of them.",
    )
    is_published = models.BooleanField(
        "published",
        default=True,
        help_text="Learners see the quiz only when it is published; a draft may still be incomplete.",
    )

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "quizzes"
        constraints = [
            models.UniqueConstraint(
                fields=["journey"], condition=Q(is_final=True), name="one_final_assessment_per_journey"
            ),
            models.CheckConstraint(condition=Q(pass_mark__lte=100), name="pass_mark_at_most_100"),
        ]

    def __str__(self):
        return f"{self.title} ({self.lesson.title if self.lesson_id else self.journey.title})"

    def save(self, *args, **kwargs):
        if self.lesson_id:
            self.journey_id = self.lesson.journey_id
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if self.is_final:
            return reverse("journeys:assessment", kwargs={"journey_slug": self.journey.slug})
        return f"{self.lesson.get_absolute_url()}#quiz"


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", "Single choice"
        MULTIPLE = "multiple", "Multiple choice"
        TRUE_FALSE = "true_false", "True or false"
        SHORT = "short", "Short answer"
        KUBECTL = "kubectl", "kubectl command"
        ORDERING = "ordering", "Put in order"

    CHOICE_KINDS = {Kind.SINGLE, Kind.MULTIPLE, Kind.TRUE_FALSE}
    TEXT_KINDS = {Kind.SHORT, Kind.KUBECTL}

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SINGLE)
    prompt = models.TextField(help_text="Markdown.")
    prompt_html = models.TextField(blank=True, editable=False)
    explanation = models.TextField(help_text="Markdown: why the right answer is right.")
    explanation_html = models.TextField(blank=True, editable=False)
    partial_credit = models.BooleanField(
        default=False, help_text="Multiple choice only: score each choice instead of all-or-nothing."
    )
    accepted_answers = models.JSONField(
        default=list,
        blank=True,
        help_text="Short answer and kubectl: accepted answers, the first is shown as canonical.",
    )
    answer_pattern = models.CharField(
        max_length=300, blank=True, help_text="Short answer only: a regular expression that must match in full."
    )
    wrong_feedback = models.TextField(
        blank=True, help_text="Shown when the answer is wrong (true/false, short answer, kubectl, ordering)."
    )

    objects = CurriculumQuerySet.as_manager()

    class Meta:
        ordering = ["quiz", "order", "id"]

    def __str__(self):
        return lesson_markdown.plain_text(self.prompt_html)[:80] or f"Question {self.pk}"

    def save(self, *args, **kwargs):
        self.prompt = lesson_markdown.normalize_source(self.prompt)
        self.explanation = lesson_markdown.normalize_source(self.explanation)
        self.prompt_html = lesson_markdown.render_markdown(self.prompt).html
        self.explanation_html = lesson_markdown.render_markdown(self.explanation).html
        super().save(*args, **kwargs)


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveIntegerField(default=0, help_text="For ordering questions, the correct position.")
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField("correct", default=False)
    feedback = models.TextField(
        blank=True, help_text="Why this choice is right or, for a wrong choice, why it is wrong."
    )

    objects = CurriculumQuerySet.as_manager()

    class Meta:
        ordering = ["question", "order", "id"]

    def __str__(self):
        return self.text


# --- Learner records ---


class LearnerOwned(models.Model):
    """A record that belongs to a signed-in user or, before sign-up, to an anonymous session key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    anon_key = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        abstract = True


class QuizAttempt(LearnerOwned):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="attempts")
    # One per rendered quiz form: a second submit of the same form finds this row instead of adding one.
    submission_token = models.UUIDField(unique=True)
    seed = models.BigIntegerField()
    question_ids = models.JSONField(default=list)
    answers = models.JSONField(default=dict)
    results = models.JSONField(default=list)
    score = models.FloatField(help_text="Percent.")
    passed = models.BooleanField()
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-submitted_at"]),
            models.Index(fields=["quiz", "user"]),
        ]

    def __str__(self):
        return f"{self.quiz} · {self.score:.0f}%"

    def get_absolute_url(self):
        return reverse("journeys:attempt", kwargs={"attempt_id": self.pk})

    @property
    def duration(self):
        return self.submitted_at - self.started_at


class QuestionResponse(models.Model):
    """One answered question of an attempt, kept apart so authors can see which questions are weak."""

    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="responses")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="responses")
    score = models.FloatField()
    is_correct = models.BooleanField()
    chosen_choices = models.ManyToManyField(Choice, blank=True, related_name="responses")
    text_answer = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "question"], name="one_response_per_question")]

    def __str__(self):
        return f"{self.attempt} · question {self.question_id}: {'right' if self.is_correct else 'wrong'}"


class LessonProgress(LearnerOwned):
    class Via(models.TextChoices):
        MANUAL = "manual", "Marked complete"
        QUIZ = "quiz", "Passed the quiz"
        LAB = "lab", "Passed the lab"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_via = models.CharField(max_length=10, choices=Via.choices, blank=True)

    class Meta:
        verbose_name_plural = "lesson progress"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson"], condition=Q(user__isnull=False), name="progress_per_user"
            ),
            models.UniqueConstraint(
                fields=["anon_key", "lesson"], condition=Q(user__isnull=True), name="progress_per_anonymous_learner"
            ),
        ]
        indexes = [models.Index(fields=["user", "-last_viewed_at"])]

    def __str__(self):
        return f"{self.user or 'anonymous'} · {self.lesson}"


class Certificate(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates")
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="certificates")
    code = models.CharField(max_length=32, unique=True)
    learner_name = models.CharField(max_length=300)
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "journey"], name="one_certificate_per_journey")]

    def __str__(self):
        return f"{self.learner_name} · {self.journey}"

    def get_absolute_url(self):
        return reverse("journeys:certificate_verify", kwargs={"code": self.code})


# --- Sandbox ---


class SandboxAssignment(models.Model):
    """The namespace (and kube context) whose objects a learner's lab checks read."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sandbox")
    namespace = models.CharField(
        max_length=63,
        validators=[
            RegexValidator(
                r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "A namespace name uses lowercase letters, digits and hyphens."
            )
        ],
    )
    context = models.CharField(max_length=200, blank=True, help_text="Kube context; empty uses SANDBOX_CONTEXT.")

    def __str__(self):
        return f"{self.user} → {self.namespace}"


class LabRun(LearnerOwned):
    class Outcome(models.TextChoices):
        PASS = "pass", "Passed"
        FAIL = "fail", "Not yet"
        ERROR = "error", "Could not check"

    lab_slug = models.SlugField(max_length=50)
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="lab_runs")
    source = models.CharField(max_length=10)  # "api" or "file"
    namespace = models.CharField(max_length=63, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    report = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "lab_slug", "-created_at"])]

    def __str__(self):
        return f"{self.lab_slug} · {self.get_outcome_display()}"
