"""Idle sandboxes expire: one nobody has used for SANDBOX_EXPIRE_DAYS is removed from the cluster.

"Used" is the latest of: its creation, the last time the portal saw it (a create, reset or kubeconfig
download), and the learner's last lab check that read its namespace. A sandbox whose account is gone
(its removal failed when the account was deleted) is always due.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ..models import LabRun, Sandbox
from .provisioning import ProvisioningError
from .sandboxes import remove_sandbox

logger = logging.getLogger(__name__)


def with_last_lab_check(sandboxes):
    """Each sandbox with ``last_run``: when its learner last had a lab checked in its namespace (or None)."""
    runs = LabRun.objects.filter(user=OuterRef("user"), namespace=OuterRef("namespace")).order_by("-created_at")
    return sandboxes.annotate(last_run=Subquery(runs.values("created_at")[:1]))


@dataclass(frozen=True)
class Due:
    sandbox: Sandbox
    last_used: dt.datetime
    orphaned: bool

    @property
    def why(self):
        if self.orphaned:
            return "its account was deleted"
        return f"idle since {self.last_used:%Y-%m-%d}"


def due_sandboxes(days, *, now=None):
    """Sandboxes unused for ``days`` days (and those without an account), oldest use first."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    rows = with_last_lab_check(Sandbox.objects.select_related("user"))
    due = []
    for sandbox in rows:
        last_used = max(moment for moment in (sandbox.created_at, sandbox.last_checked, sandbox.last_run) if moment)
        orphaned = sandbox.user_id is None
        if orphaned or last_used < cutoff:
            due.append(Due(sandbox, last_used, orphaned))
    return sorted(due, key=lambda item: item.last_used)


def expire(days, *, now=None, dry_run=False, provisioner=None):
    """Remove every due sandbox. Returns (removed, failed) lists of Due; a failure is recorded, not raised."""
    removed, failed = [], []
    for item in due_sandboxes(days, now=now):
        if dry_run:
            removed.append(item)
            continue
        try:
            remove_sandbox(item.sandbox, provisioner=provisioner, why=f"expired: {item.why}")
        except ProvisioningError:
            failed.append(item)  # logged and stored on the row and in the audit trail by the service
        except Exception as exc:  # one sandbox's surprise must not end the run for the rest
            logger.exception("sandbox %s could not be expired", item.sandbox.namespace)
            item.sandbox.last_error = f"unexpected: {exc!r}"[:2000]
            failed.append(item)
        else:
            removed.append(item)
    return removed, failed
