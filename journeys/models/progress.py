"""A learner's records: lesson progress and certificates (and the owner fields every learner row has)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .curriculum import Journey, Lesson


class LearnerOwned(models.Model):
    """A record that belongs to a signed-in user or, before sign-up, to an anonymous session key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    anon_key = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        abstract = True


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
