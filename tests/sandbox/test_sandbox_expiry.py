"""Idle sandboxes expire through `manage.py expire_sandboxes`; recent use (a lab check) keeps one."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from journeys.models import LabRun, ProvisioningEvent, Sandbox
from journeys.sandbox import sandboxes
from journeys.sandbox.expiry import due_sandboxes
from tests import factories
from tests.sandbox.provisioning_support import enable_provisioning

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    return enable_provisioning(kube_emulator, tmp_path, settings)


def age(sandbox, days):
    then = timezone.now() - dt.timedelta(days=days)
    Sandbox.objects.filter(pk=sandbox.pk).update(created_at=then, last_checked=then)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("expire_sandboxes", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_only_idle_sandboxes_are_removed(cluster):
    idle = sandboxes.create_sandbox(factories.UserFactory(username="idle"))
    fresh = sandboxes.create_sandbox(factories.UserFactory(username="fresh"))
    checked = sandboxes.create_sandbox(factories.UserFactory(username="checked"))
    for sandbox in (idle, checked):
        age(sandbox, 20)
    lesson = factories.LessonFactory()
    LabRun.objects.create(user=checked.user, lab_slug="x", lesson=lesson, source="api", namespace="learn-checked",
                          outcome="fail")  # fmt: skip

    out, _ = run("--days", "14")

    assert "Removed learn-idle (idle since" in out and "Removed 1 sandbox idle for 14+ days." in out
    assert set(Sandbox.objects.values_list("namespace", flat=True)) == {"learn-fresh", "learn-checked"}
    assert cluster.get("Namespace", "learn-idle", "") is None
    assert cluster.get("Namespace", fresh.namespace, "") is not None
    event = ProvisioningEvent.objects.filter(action="delete").get()
    assert (event.actor, event.actor_name, event.learner_name) == (None, "system", "idle")
    assert event.reason.startswith("expired: idle since")


def test_a_sandbox_left_by_a_deleted_account_is_always_due(cluster):
    user = factories.UserFactory(username="gone")
    sandbox = sandboxes.create_sandbox(user)
    user.delete()

    [due] = due_sandboxes(30)

    assert due.sandbox == sandbox and due.why == "its account was deleted"


def test_a_dry_run_changes_nothing(cluster, settings):
    settings.SANDBOX_EXPIRE_DAYS = 7
    age(sandboxes.create_sandbox(factories.UserFactory(username="idle")), 8)
    cluster.reset_requests()

    out, _ = run("--dry-run")

    assert "Would remove learn-idle" in out
    assert Sandbox.objects.count() == 1 and cluster.requests == []


def test_a_failed_removal_is_kept_and_reported(cluster):
    age(sandboxes.create_sandbox(factories.UserFactory(username="idle")), 30)
    cluster.fail(r"/namespaces/learn-idle$", 403, method="DELETE")

    with pytest.raises(CommandError, match="1 could not be removed"):
        run("--days", "14")

    sandbox = Sandbox.objects.get()
    assert sandbox.state == Sandbox.State.FAILED and sandbox.last_error.startswith("forbidden")
    assert ProvisioningEvent.objects.filter(action="delete", outcome="failed").exists()


def test_expiry_is_off_until_configured(db):
    with pytest.raises(CommandError, match="SANDBOX_EXPIRE_DAYS"):
        run()
