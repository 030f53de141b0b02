"""Lab validation records: which namespace a learner's checks read, each check's run, and provisioned sandboxes."""

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


class Sandbox(models.Model):
    """A namespace the portal provisioned for a learner (SANDBOX_PROVISIONING). The token is never stored."""

    class State(models.TextChoices):
        CREATING = "creating", "Being created"
        READY = "ready", "Ready"
        TERMINATING = "terminating", "Being removed"
        FAILED = "failed", "Failed"

    # Kept when the account goes and the cluster could not be reached: the row still names the namespace
    # an operator has to remove.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="provisioned_sandbox"
    )
    namespace = models.CharField(max_length=63, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.CREATING)
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked = models.DateTimeField(
        "last seen by the portal",
        null=True,
        blank=True,
        help_text="When the portal last saw it in the cluster (a create, reset or kubeconfig download).",
    )
    last_error = models.TextField(blank=True, help_text="Why the last action failed, for operators.")

    class Meta:
        ordering = ["namespace"]

    def __str__(self):
        return self.namespace


class ProvisioningEvent(models.Model):
    """One provisioning action, kept for the audit trail even after the learner's account is gone."""

    class Action(models.TextChoices):
        CREATE = "create", "Create"
        RESET = "reset", "Reset"
        DELETE = "delete", "Delete"
        TOKEN = "token", "Issue a token"

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        PENDING = "pending", "Still in progress"
        FAILED = "failed", "Failed"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="Who asked, kept after their account is deleted.")
    learner_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    namespace = models.CharField(max_length=63)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.action} {self.namespace} · {self.get_outcome_display()}"
