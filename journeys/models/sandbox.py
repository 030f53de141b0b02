"""Lab validation records: which namespace a learner's checks read, and each check's run."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from .curriculum import Lesson
from .progress import LearnerOwned


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
