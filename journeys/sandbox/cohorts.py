"""Sandboxes for many learners at once (a cohort, or rows picked in admin), with counts to report.

Each learner's action is recorded like a learner's own (sandboxes.py), with the admin as actor. One
learner's failure does not stop the others: the cluster may refuse one name and accept the rest.
"""

from dataclasses import dataclass, field

from ..models import Sandbox
from . import sandboxes
from .provisioning import Provisioner, ProvisioningError


@dataclass
class Tally:
    done: int = 0
    pending: int = 0
    failed: list = field(default_factory=list)  # (name, learner's message)

    def summary(self, verb):
        parts = [f"{verb} {self.done}"]
        if self.pending:
            parts.append(f"{self.pending} still waiting for an old namespace to go (run it again in a minute)")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return ", ".join(parts) + "."

    def failures(self, limit=5):
        shown = "; ".join(f"{name}: {message}" for name, message in self.failed[:limit])
        more = len(self.failed) - limit
        return shown + (f"; and {more} more (see Provisioning events)" if more > 0 else "")


def _provisioner(tally, names):
    """One Provisioner for the whole batch; None (every learner counted failed) when it is misconfigured."""
    try:
        return Provisioner()
    except ProvisioningError as exc:
        tally.failed.extend((name, exc.message) for name in names)
        return None


def create_for_users(users, *, actor):
    users = list(users)
    tally = Tally()
    provisioner = _provisioner(tally, [user.get_username() for user in users])
    if provisioner is None:
        return tally
    for user in users:
        try:
            sandbox = sandboxes.create_sandbox(user, actor=actor, provisioner=provisioner)
        except ProvisioningError as exc:
            tally.failed.append((user.get_username(), exc.message))
            continue
        if sandbox.state == Sandbox.State.READY:
            tally.done += 1
        else:
            tally.pending += 1
    return tally


def remove_sandboxes(sandbox_rows, *, actor):
    rows = list(sandbox_rows)
    tally = Tally()
    provisioner = _provisioner(tally, [row.namespace for row in rows])
    if provisioner is None:
        return tally
    for sandbox in rows:
        try:
            sandboxes.remove_sandbox(sandbox, actor=actor, provisioner=provisioner, why=f"removed by {actor}")
        except ProvisioningError as exc:
            tally.failed.append((sandbox.namespace, exc.message))
            continue
        tally.done += 1
    return tally
