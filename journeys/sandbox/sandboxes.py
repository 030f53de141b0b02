"""A learner's provisioned sandbox: create, reset, delete it and hand out its kubeconfig, each recorded.

The cluster work is ``provisioning.Provisioner``'s; this module keeps the Sandbox row in step with the
cluster and writes a ProvisioningEvent for every action, whatever its outcome, so operators can read who
asked for what and why it failed. Failures reach the caller as ProvisioningError (its message is for
the learner) after the operator's reason has been logged and stored.
"""

import logging

from django.contrib.auth import get_user_model
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from ..models import ProvisioningEvent, Sandbox
from .assignments import template_namespace
from .provisioning import ABSENT, ACTIVE, TERMINATING, Provisioner, ProvisioningError, provisioning_enabled

logger = logging.getLogger(__name__)

Action, Outcome, State = ProvisioningEvent.Action, ProvisioningEvent.Outcome, Sandbox.State


def _record(action, namespace, *, actor, learner, outcome, reason=""):
    event = ProvisioningEvent(
        actor_id=actor.pk if actor is not None else None,
        actor_name=actor.get_username() if actor is not None else "system",
        learner_name=learner.get_username() if learner is not None else "",
        action=action,
        namespace=namespace,
        outcome=outcome,
        reason=reason[:2000],
    )
    # The actor's account may have been deleted meanwhile (a learner's create racing the deletion of their
    # account): the event then keeps their name, not a link to a row that is gone.
    if event.actor_id is not None and not get_user_model().objects.filter(pk=event.actor_id).exists():
        event.actor_id = None
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        event.actor_id = None
        event.save()


class SandboxGoneError(ProvisioningError):
    """The row went while the cluster was being changed: someone deleted the sandbox meanwhile."""

    def __init__(self, namespace, action):
        super().__init__(
            "gone",
            "Your sandbox was deleted while this was going on, so nothing more was done. "
            "Create it again if you need it.",
            detail=f"the Sandbox row of {namespace} was deleted during a {action}",
        )


def _save(sandbox, action, *fields):
    """Save ``fields``; SandboxGoneError when another request (a delete, an admin's removal) took the row meanwhile."""
    try:
        sandbox.save(update_fields=fields)
    except DatabaseError:
        if Sandbox.objects.filter(pk=sandbox.pk).exists():
            raise
        raise SandboxGoneError(sandbox.namespace, action) from None


def _failed(sandbox, action, exc, *, actor, learner):
    logger.warning("sandbox %s of %s: %s failed (%s): %s", sandbox.namespace, learner, action, exc.code, exc.detail)
    sandbox.state = State.TERMINATING if exc.code == "terminating" else State.FAILED
    sandbox.last_error = f"{exc.code}: {exc.detail}"[:2000]
    outcome = Outcome.PENDING if exc.code == "terminating" else Outcome.FAILED
    _record(action, sandbox.namespace, actor=actor, learner=learner, outcome=outcome, reason=sandbox.last_error)
    _save(sandbox, action, "state", "last_error")


def _require_enabled():
    if not provisioning_enabled():
        raise ProvisioningError(
            "disabled",
            "This portal does not hand out sandboxes. Ask your administrator which namespace to use.",
            detail="SANDBOX_PROVISIONING is off or no provisioner identity is configured",
        )


def sandbox_for(user):
    return Sandbox.objects.filter(user=user).first()


def _sandbox_row(user):
    """The learner's Sandbox row, made on first use with the namespace the template gives them."""
    sandbox = sandbox_for(user)
    if sandbox is not None:
        return sandbox
    namespace = template_namespace(user)
    if not namespace:
        raise ProvisioningError(
            "not-configured",
            "Sandboxes are not set up correctly on this portal. Tell your administrator.",
            detail="SANDBOX_NAMESPACE_TEMPLATE is empty or gives no valid name for this user",
        )
    try:
        with transaction.atomic():
            return Sandbox.objects.create(user=user, namespace=namespace)
    except IntegrityError:
        # A second click created it meanwhile, or another account maps to the same name.
        sandbox = sandbox_for(user)
        if sandbox is not None:
            return sandbox
        raise ProvisioningError(
            "taken",
            "The name your sandbox would get is already used by another account. Tell your administrator.",
            detail=f"namespace {namespace} already belongs to another Sandbox",
        ) from None


def _apply(sandbox, action, method, provisioner, *, actor, learner):
    """Run one Provisioner method on the sandbox's namespace; a failure is logged and recorded, then raised."""
    try:
        result = getattr(provisioner or Provisioner(), method)(sandbox.namespace)
    except ProvisioningError as exc:
        _failed(sandbox, action, exc, actor=actor, learner=learner)
        raise
    return result


def _settle(sandbox, action, state, provisioner, *, actor, learner):
    now = timezone.now()
    sandbox.state = State.READY if state == ACTIVE else State.TERMINATING
    sandbox.last_checked, sandbox.last_error = now, ""
    try:
        _save(sandbox, action, "state", "last_checked", "last_error")
    except SandboxGoneError as gone:
        # The delete that removed the row may have run before this namespace was made: the last word was
        # "delete", so the namespace goes too, rather than outlive its row unseen.
        _record(action, sandbox.namespace, actor=actor, learner=learner, outcome=Outcome.FAILED,
                reason="the sandbox was deleted meanwhile")  # fmt: skip
        _undo(sandbox, provisioner, actor=actor, learner=learner)
        raise gone from None
    outcome = Outcome.OK if state == ACTIVE else Outcome.PENDING
    reason = "" if state == ACTIVE else "the previous namespace is still terminating"
    _record(action, sandbox.namespace, actor=actor, learner=learner, outcome=outcome, reason=reason)
    return sandbox


def _undo(sandbox, provisioner, *, actor, learner):
    try:
        state = (provisioner or Provisioner()).delete(sandbox.namespace)
    except ProvisioningError as exc:
        logger.warning("sandbox %s: could not remove it after its row went: %s", sandbox.namespace, exc.detail)
        outcome, reason = Outcome.FAILED, f"deleted meanwhile; the namespace could not be removed: {exc.detail}"
    else:
        outcome, reason = Outcome.OK, "deleted meanwhile" + ("; terminating" if state == TERMINATING else "")
    _record(Action.DELETE, sandbox.namespace, actor=actor, learner=learner, outcome=outcome, reason=reason)


def create_sandbox(user, *, actor=None, provisioner=None):
    """Create (or complete) the learner's sandbox. Returns the Sandbox; its state says READY or TERMINATING."""
    return _build(user, Action.CREATE, "create", actor=actor, provisioner=provisioner)


def reset_sandbox(user, *, actor=None, provisioner=None):
    """Delete and recreate; TERMINATING means the old namespace is still going (ask again shortly)."""
    return _build(user, Action.RESET, "reset", actor=actor, provisioner=provisioner)


def _build(user, action, method, *, actor, provisioner):
    _require_enabled()
    actor = actor or user
    sandbox = _sandbox_row(user)
    state = _apply(sandbox, action, method, provisioner, actor=actor, learner=user)
    return _settle(sandbox, action, state, provisioner, actor=actor, learner=user)


def delete_sandbox(user, *, actor=None, provisioner=None):
    """Remove the learner's sandbox; the row goes, the event stays. Returns the namespace, or None."""
    actor = actor or user
    sandbox = sandbox_for(user)
    if sandbox is None:
        return None
    return remove_sandbox(sandbox, actor=actor, provisioner=provisioner)


def remove_sandbox(sandbox, *, actor=None, provisioner=None, why=""):
    """Remove one sandbox (also one whose account is gone); the row goes, the event stays.

    Returns the namespace; raises ProvisioningError (recorded) when the cluster refuses.
    """
    learner = sandbox.user
    state = _apply(sandbox, Action.DELETE, "delete", provisioner, actor=actor, learner=learner)
    outcome_text = "terminating" if state == TERMINATING else "already gone" if state == ABSENT else ""
    reason = "; ".join(part for part in (why, outcome_text) if part)
    _record(Action.DELETE, sandbox.namespace, actor=actor, learner=learner, outcome=Outcome.OK, reason=reason)
    namespace = sandbox.namespace
    sandbox.delete()
    return namespace


def sandbox_credentials(user, *, provisioner=None):
    """A fresh kubeconfig for the learner's sandbox (provisioning.Credentials); nothing of it is stored."""
    _require_enabled()
    sandbox = sandbox_for(user)
    if sandbox is None:
        raise ProvisioningError("no-sandbox", "You have no sandbox yet. Create it first.", detail="no Sandbox row")
    credentials = _apply(sandbox, Action.TOKEN, "credentials", provisioner, actor=user, learner=user)
    _record(
        Action.TOKEN,
        sandbox.namespace,
        actor=user,
        learner=user,
        outcome=Outcome.OK,
        reason=f"expires {credentials.expires}",
    )
    sandbox.last_checked = timezone.now()
    _save(sandbox, Action.TOKEN, "last_checked")  # a sandbox deleted meanwhile hands out no kubeconfig
    return credentials


def remove_for_account(user, *, provisioner=None):
    """Called before an account is deleted: remove its sandbox. Never raises, so the deletion goes ahead.

    With provisioning off the cluster is left alone, as for an admin's deletion: the row, without its
    account, names the namespace for when provisioning (and expire_sandboxes) is back.
    """
    if not provisioning_enabled() or sandbox_for(user) is None:
        return
    # The deletion that follows would try again (remove_with_account); once is enough for a learner to wait.
    user._sandbox_removal_tried = True
    try:
        delete_sandbox(user, actor=user, provisioner=provisioner)
    except ProvisioningError:
        # Recorded (event and Sandbox.last_error) by _apply; the row outlives the account to name the namespace.
        pass
    except Exception:  # an account deletion must not fail because of the cluster
        logger.exception("sandbox of %s could not be removed with the account", user)
        sandbox = sandbox_for(user)
        if sandbox is not None:
            _record(
                Action.DELETE, sandbox.namespace, actor=user, learner=user,
                outcome=Outcome.FAILED, reason="unexpected error; see the log",
            )  # fmt: skip


def remove_with_account(sender, instance, **kwargs):
    """pre_delete of an account, however it goes (Django admin, its bulk action, the shell): its sandbox goes too.

    The namespace is removed once the deletion has committed, so a deletion that rolls back keeps it. A
    failure leaves the row without an account, which expire_sandboxes removes on its next run.
    """
    if getattr(instance, "_sandbox_removal_tried", False):
        return
    sandbox_id = Sandbox.objects.filter(user=instance).values_list("pk", flat=True).first()
    if sandbox_id is None:
        return
    username = instance.get_username()
    transaction.on_commit(lambda: _remove_orphan(sandbox_id, username))


def _remove_orphan(sandbox_id, username):
    sandbox = Sandbox.objects.filter(pk=sandbox_id, user__isnull=True).first()
    if sandbox is None:
        return
    if not provisioning_enabled():
        logger.warning("sandbox %s of deleted account %s kept: provisioning is off", sandbox.namespace, username)
        return
    try:
        remove_sandbox(sandbox, why=f"the account {username} was deleted")
    except ProvisioningError:
        pass  # recorded by _apply; expire_sandboxes retries an orphan on every run
    except Exception:  # the account is already gone; the orphan row names what is left to remove
        logger.exception("sandbox %s of deleted account %s could not be removed", sandbox.namespace, username)
