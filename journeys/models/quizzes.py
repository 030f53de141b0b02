"""Quizzes and what learners answered: Quiz → Question → Choice; QuizAttempt → QuestionResponse."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from ..curriculum import markdown as lesson_markdown
from .curriculum import CurriculumQuerySet, Journey, Lesson, VisibilityQuerySet
from .progress import LearnerOwned


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
