"""Attacks on sandbox provisioning beyond the learner's own pages: account deletion with a cluster that
fails, hangs or is switched off; `manage.py expire_sandboxes` given bad arguments and a hostile cluster;
a learner's token trying to leave its sandbox or loosen its guards; and settings from the environment
that cannot work. A test marked xfail(strict) names a defect that is still there."""

import datetime as dt
import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from journeys.models import ProvisioningEvent, Sandbox
from journeys.sandbox import expiry, sandboxes
from journeys.sandbox.provisioning import (
    GUARD_NAME,
    MANAGED_BY_LABEL,
    ROLE_BINDING,
    SERVICE_ACCOUNT,
    Provisioner,
    ProvisioningError,
)
from tests import factories
from tests.sandbox.provisioning_support import (
    PROVISIONER_TOKEN,
    call,
    enable_provisioning,
    load_rbac,
    path_for,
    provisioner_settings,
)

pytest_plugins = ["tests.k8s_emulator"]

Action, Outcome, State = ProvisioningEvent.Action, ProvisioningEvent.Outcome, Sandbox.State
ROOT = Path(django_settings.BASE_DIR)
PASSWORD = "correct-horse-battery"
ADA, BOB = "learn-ada", "learn-bob"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    settings.SANDBOX_RESET_WAIT = 0.3
    settings.SANDBOX_CONNECT_TIMEOUT = 1
    settings.SANDBOX_READ_TIMEOUT = 1
    # Generous limits: these tests are about the cluster, not the per-minute limits.
    settings.SANDBOX_CHANGES_PER_MINUTE = 1000
    return enable_provisioning(kube_emulator, tmp_path, settings)


@pytest.fixture
def ada(db):
    return factories.UserFactory(username="ada")


def namespace_of(emulator, name):
    return emulator.get("Namespace", name, "")


def going(emulator, name):
    """The namespace is gone or on its way (the emulator may end the termination at once)."""
    found = namespace_of(emulator, name)
    return found is None or found["status"]["phase"] == "Terminating"


def idle(sandbox, days):
    then = timezone.now() - dt.timedelta(days=days)
    Sandbox.objects.filter(pk=sandbox.pk).update(created_at=then, last_checked=then)


def expire_command(*args):
    out, err = StringIO(), StringIO()
    call_command("expire_sandboxes", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def delete_own_account(client, user):
    client.force_login(user)
    return client.post(reverse("journeys:account_delete"), {"password": PASSWORD})


def portal_process(args, **env):
    """A fresh portal process (settings read from ``env``): (exit code, stdout + stderr)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")}
    environment |= {"DJANGO_SETTINGS_MODULE": "portal.settings", **env}
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


# === 1. Account deletion removes the sandbox =============================================================


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fault",
    ["500", "403", "slow", "unreachable"],
)
def test_own_account_deletion_goes_ahead_whatever_the_cluster_does_and_expiry_finishes_it(
    cluster, ada, client, fault, settings, tmp_path, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    if fault == "500":
        cluster.fail(r"/namespaces/learn-ada$", 500, method="DELETE")
    elif fault == "403":
        cluster.fail(r"/namespaces/learn-ada$", 403, method="DELETE")
    elif fault == "slow":
        settings.SANDBOX_READ_TIMEOUT = 0.3
        cluster.delay(r"/namespaces/learn-ada$", 1, method="DELETE", times=1)
    else:
        closed = socket_closed_port()
        good = settings.SANDBOX_PROVISIONER_KUBECONFIG
        settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
            cluster.write_kubeconfig(tmp_path / "down", token=PROVISIONER_TOKEN, server=f"https://127.0.0.1:{closed}")
        )
    cluster.reset_requests()

    with django_capture_on_commit_callbacks(execute=True):
        response = delete_own_account(client, ada)

    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="ada").exists()
    orphan = Sandbox.objects.get()
    assert orphan.user is None and orphan.namespace == ADA and orphan.last_error
    # One attempt while the learner waits; the pre_delete signal does not try a second time.
    assert cluster.request_count(r"/namespaces/learn-ada$") <= 2
    failed = ProvisioningEvent.objects.filter(action=Action.DELETE, outcome=Outcome.FAILED)
    assert failed.count() == 1 and failed.get().learner_name == "ada"

    cluster.clear_faults()
    if fault == "unreachable":
        settings.SANDBOX_PROVISIONER_KUBECONFIG = good
    out, _ = expire_command("--days", "30")
    assert "Removed learn-ada (its account was deleted)." in out
    assert not Sandbox.objects.exists()
    assert going(cluster, ADA)


def socket_closed_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db
def test_admin_single_deletion_with_a_failing_cluster_still_deletes_and_leaves_an_orphan(
    cluster, ada, admin_client, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    cluster.fail(r"/namespaces/learn-ada$", 503)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:auth_user_delete", args=[ada.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=ada.pk).exists()
    orphan = Sandbox.objects.get()
    assert orphan.user is None and orphan.state == State.FAILED
    event = ProvisioningEvent.objects.get(action=Action.DELETE)
    assert (event.outcome, event.actor_name) == (Outcome.FAILED, "system")


@pytest.mark.django_db
def test_admin_bulk_deletion_removes_what_it_can_and_keeps_the_one_the_cluster_refused(
    cluster, admin_client, django_capture_on_commit_callbacks
):
    learners = [factories.UserFactory(username=name) for name in ("ada", "bob", "cy")]
    for learner in learners:
        sandboxes.create_sandbox(learner)
    cluster.fail(r"/namespaces/learn-bob$", 500, method="DELETE")
    selected = {"action": "delete_selected", "_selected_action": [u.pk for u in learners], "post": "yes"}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:auth_user_changelist"), selected)

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk__in=[u.pk for u in learners]).exists()
    assert list(Sandbox.objects.values_list("namespace", "user")) == [(BOB, None)]
    assert going(cluster, ADA)
    assert going(cluster, "learn-cy")
    assert namespace_of(cluster, BOB)["status"]["phase"] == "Active"


@pytest.mark.django_db
def test_admin_bulk_deletion_with_a_slow_cluster_finishes(cluster, admin_client, settings,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    learners = [factories.UserFactory(username=f"l{i}") for i in range(3)]
    for learner in learners:
        sandboxes.create_sandbox(learner)
    settings.SANDBOX_READ_TIMEOUT = 0.2  # only now: the creates above must not time out on a busy machine
    cluster.delay(r"/namespaces/learn-l\d$", 0.5, method="DELETE")
    selected = {"action": "delete_selected", "_selected_action": [u.pk for u in learners], "post": "yes"}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:auth_user_changelist"), selected)

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk__in=[u.pk for u in learners]).exists()
    assert set(Sandbox.objects.values_list("user", flat=True)) == {None}
    assert all(row.last_error.startswith("timeout") for row in Sandbox.objects.all())


@pytest.mark.django_db
def test_the_same_account_deleted_twice_at_once_removes_the_sandbox_once(
    cluster, ada, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    again = get_user_model().objects.get(pk=ada.pk)  # a second request's copy

    with django_capture_on_commit_callbacks(execute=True):
        ada.delete()
    with django_capture_on_commit_callbacks(execute=True):
        again.delete()

    assert not Sandbox.objects.exists()
    assert ProvisioningEvent.objects.filter(action=Action.DELETE).count() == 1


@pytest.mark.django_db
def test_own_deletion_after_an_admin_already_removed_the_sandbox_is_quiet(cluster, ada, client):
    sandboxes.create_sandbox(ada)
    Sandbox.objects.all().delete()  # an admin's removal won the race
    cluster.reset_requests()

    response = delete_own_account(client, ada)

    assert response.status_code == 302
    assert cluster.requests == []


def create_while_the_account_goes(cluster, slow_step):
    """Start a create whose cluster step ``slow_step`` is slow, delete the account meanwhile; the create's end."""
    ada = factories.UserFactory(username="ada")
    cluster.delay(slow_step, 0.6, method="POST", times=1)
    outcome = {}

    def create():
        from django.db import connection

        try:
            outcome["sandbox"] = sandboxes.create_sandbox(get_user_model().objects.get(pk=ada.pk))
        except Exception as exc:  # noqa: BLE001 - whatever ends it is the finding
            outcome["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=create)
    worker.start()
    for _ in range(50):  # until the row exists and the cluster call is under way
        if Sandbox.objects.exists():
            break
        threading.Event().wait(0.02)
    threading.Event().wait(0.1)
    ada.delete()  # autocommit: the on_commit removal runs at once
    worker.join(5)
    assert not worker.is_alive()
    return outcome


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "slow_step",
    [r"/api/v1/namespaces$", r"/rolebindings$"],
    ids=["before-the-namespace", "before-the-binding"],
)
def test_an_account_deleted_while_its_sandbox_is_being_created_ends_the_create_with_a_message(cluster, slow_step):
    outcome = create_while_the_account_goes(cluster, slow_step)

    assert isinstance(outcome.get("error"), ProvisioningError), outcome


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "slow_step",
    [r"/api/v1/namespaces$", r"/rolebindings$"],
    ids=["before-the-namespace", "before-the-binding"],
)
def test_an_account_deleted_while_its_sandbox_is_being_created_leaves_no_namespace(cluster, slow_step):
    create_while_the_account_goes(cluster, slow_step)

    assert not Sandbox.objects.exists()
    assert going(cluster, ADA)


@pytest.mark.django_db
def test_an_orphan_keeps_its_name_from_a_new_account_until_expiry_removes_it(
    cluster, ada, client, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    cluster.fail(r"/namespaces/learn-ada$", 500, method="DELETE", times=1)
    with django_capture_on_commit_callbacks(execute=True):
        delete_own_account(client, ada)
    newcomer = factories.UserFactory(username="ada")

    with pytest.raises(ProvisioningError) as refused:
        sandboxes.create_sandbox(newcomer)
    assert refused.value.code == "taken"
    assert namespace_of(cluster, ADA)["status"]["phase"] == "Active"  # the old learner's objects untouched

    expire_command("--days", "30")
    cluster.finish_termination()
    assert sandboxes.create_sandbox(newcomer).state == State.READY


@pytest.mark.django_db
def test_an_unexpected_error_during_own_deletion_still_deletes_the_account(cluster, ada, client, monkeypatch):
    sandboxes.create_sandbox(ada)

    def explode(self, namespace):
        raise RuntimeError("a bug in the client library")

    monkeypatch.setattr(Provisioner, "delete", explode)

    response = delete_own_account(client, ada)

    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="ada").exists()
    assert Sandbox.objects.get().user is None
    assert ProvisioningEvent.objects.get(action=Action.DELETE).reason == "unexpected error; see the log"


@pytest.mark.django_db
def test_with_provisioning_switched_off_both_deletion_paths_leave_the_namespace_alone(
    cluster, client, settings, django_capture_on_commit_callbacks
):
    """The admin path keeps the namespace while provisioning is off; the learner's own path should too."""
    ada, bob = factories.UserFactory(username="ada"), factories.UserFactory(username="bob")
    for learner in (ada, bob):
        sandboxes.create_sandbox(learner)
    settings.SANDBOX_PROVISIONING = False
    cluster.reset_requests()

    with django_capture_on_commit_callbacks(execute=True):
        bob.delete()  # as admin's deletion does
    assert cluster.requests == []
    with django_capture_on_commit_callbacks(execute=True):
        delete_own_account(client, ada)

    assert cluster.requests == [], "the learner's own deletion called the cluster with provisioning off"


@pytest.mark.django_db
def test_with_provisioning_half_configured_own_deletion_is_quiet_and_leaves_the_orphan(
    cluster, ada, client, settings, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    settings.SANDBOX_PROVISIONER_KUBECONFIG = ""  # the identity removed, the switch left on

    with django_capture_on_commit_callbacks(execute=True):
        response = delete_own_account(client, ada)

    assert response.status_code == 302
    assert Sandbox.objects.get().user is None
    assert namespace_of(cluster, ADA)["status"]["phase"] == "Active"


# === 2. manage.py expire_sandboxes =======================================================================


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "Sandboxes do not expire"),
        (["--days", "-1"], "Sandboxes do not expire"),
        (["--days", "-99999999999999999999"], "Sandboxes do not expire"),
        (["--days", "36501"], "--days may be at most 36500"),
        (["--days", str(10**40)], "--days may be at most 36500"),
        (["--days", "0", "--dry-run"], "Sandboxes do not expire"),
        (["--days", "abc"], "invalid int value"),
        (["--days", "1.5"], "invalid int value"),
        (["--days", "nan"], "invalid int value"),
        (["--days", ""], "invalid int value"),
        (["--days"], "expected one argument"),
        (["--dry-run=yes"], "ignored explicit argument"),
    ],
)
def test_every_bad_argument_is_a_command_error(cluster, args, message):
    with pytest.raises(CommandError, match=message):
        expire_command(*args)


@pytest.mark.django_db
@pytest.mark.parametrize("days", [None, 0, -5])
def test_without_expiry_days_nothing_runs(cluster, ada, settings, days):
    settings.SANDBOX_EXPIRE_DAYS = days
    sandboxes.create_sandbox(ada)
    cluster.reset_requests()

    with pytest.raises(CommandError, match="set SANDBOX_EXPIRE_DAYS"):
        expire_command()

    assert cluster.requests == [] and Sandbox.objects.count() == 1


@pytest.mark.django_db
def test_the_largest_days_is_no_overflow(cluster, ada):
    sandboxes.create_sandbox(ada)
    out, _ = expire_command("--days", "36500")
    assert "Removed 0 sandboxes idle for 36500+ days." in out


@pytest.mark.django_db
def test_dry_run_lists_orphans_and_idle_ones_and_makes_no_call(cluster, ada):
    bob = factories.UserFactory(username="bob")
    for learner in (ada, bob):
        sandboxes.create_sandbox(learner)
    idle(Sandbox.objects.get(namespace=ADA), 40)
    Sandbox.objects.filter(namespace=BOB).update(user=None)
    cluster.reset_requests()

    out, _ = expire_command("--days", "30", "--dry-run")

    assert "Would remove learn-ada (idle since" in out and "Would remove learn-bob (its account was deleted)." in out
    assert cluster.requests == [] and Sandbox.objects.count() == 2


@pytest.mark.django_db
def test_a_cluster_failing_mid_run_removes_the_rest_and_exits_non_zero(cluster):
    names = ["a1", "a2", "a3", "a4"]
    for name in names:
        idle(sandboxes.create_sandbox(factories.UserFactory(username=name)), 40)
    cluster.fail(r"/namespaces/learn-a2$", 500, method="DELETE")
    cluster.fail(r"/namespaces/learn-a3$", 401)

    with pytest.raises(CommandError, match="2 could not be removed; they are kept"):
        expire_command("--days", "30")

    assert set(Sandbox.objects.values_list("namespace", flat=True)) == {"learn-a2", "learn-a3"}
    assert {row.last_error.split(":")[0] for row in Sandbox.objects.all()} == {"server-error", "unauthorized"}


@pytest.mark.django_db
def test_a_failure_is_reported_on_stderr_with_its_reason(cluster, ada):
    idle(sandboxes.create_sandbox(ada), 40)
    cluster.fail(r"/namespaces/learn-ada$", 500, method="DELETE")
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError):
        call_command("expire_sandboxes", "--days", "30", stdout=out, stderr=err)

    assert "Could not remove learn-ada: server-error: delete namespaces in learn-ada: 500" in err.getvalue()
    assert "Removed 0 sandboxes" in out.getvalue()


@pytest.mark.django_db
def test_a_namespace_already_removed_by_hand_just_drops_the_row(cluster, ada):
    idle(sandboxes.create_sandbox(ada), 40)
    cluster.remove("Namespace", ADA, "")

    out, _ = expire_command("--days", "30")

    assert "Removed learn-ada" in out and not Sandbox.objects.exists()
    assert ProvisioningEvent.objects.filter(action=Action.DELETE).last().reason.endswith("already gone")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "labels",
    [{}, {MANAGED_BY_LABEL: "someone-else"}, {MANAGED_BY_LABEL: "Kube-Journeys"}, {"managed-by": "kube-journeys"}],
    ids=["no-label", "other-owner", "case-changed", "similar-key"],
)
def test_a_namespace_that_lost_the_portal_label_is_never_deleted(cluster, ada, labels):
    idle(sandboxes.create_sandbox(ada), 40)
    namespace = namespace_of(cluster, ADA)
    namespace["metadata"]["labels"] = labels
    cluster.add(namespace)

    with pytest.raises(CommandError, match="1 could not be removed"):
        expire_command("--days", "30")

    assert namespace_of(cluster, ADA)["status"]["phase"] == "Active"
    assert not [r for r in cluster.requests if r.method == "DELETE"]
    assert Sandbox.objects.get().last_error.startswith("not-ours")


@pytest.mark.django_db
def test_a_namespace_replaced_by_a_stranger_of_the_same_name_is_never_deleted(cluster, ada):
    idle(sandboxes.create_sandbox(ada), 40)
    cluster.remove("Namespace", ADA, "")
    cluster.add_namespace(ADA, labels={"team": "payments"})

    with pytest.raises(CommandError):
        expire_command("--days", "30")

    assert namespace_of(cluster, ADA)["status"]["phase"] == "Active"


@pytest.mark.django_db
def test_a_row_whose_namespace_name_is_not_valid_is_a_failure_not_a_crash(cluster, ada):
    sandbox = sandboxes.create_sandbox(ada)
    Sandbox.objects.filter(pk=sandbox.pk).update(namespace="Bad_Name", user=None)

    with pytest.raises(CommandError, match="1 could not be removed"):
        expire_command("--days", "30")

    assert Sandbox.objects.get().last_error.startswith("bad-name")


@pytest.mark.django_db
def test_many_sandboxes_are_expired_in_one_run(cluster):
    users = factories.UserFactory.create_batch(60)
    rows = Sandbox.objects.bulk_create(
        Sandbox(user=user, namespace=f"learn-many-{i}", state=State.READY) for i, user in enumerate(users)
    )
    Sandbox.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=timezone.now() - dt.timedelta(days=90))

    out, _ = expire_command("--days", "30")

    assert "Removed 60 sandboxes idle for 30+ days." in out
    assert not Sandbox.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_report_no_failure_and_leave_nothing(cluster):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("the test database of SQLite is shared in memory: two threads writing lock its tables")
    for name in ("t1", "t2", "t3"):
        idle(sandboxes.create_sandbox(factories.UserFactory(username=name)), 40)
    cluster.delay(r"/namespaces/learn-t\d$", 0.1)
    results, errors = [], []

    def run():
        from django.db import connection

        try:
            results.append(expiry.expire(30))
        except Exception as exc:  # noqa: BLE001 - any crash is the finding
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert errors == []
    assert all(failed == [] for _, failed in results)
    assert not Sandbox.objects.exists()


@pytest.mark.django_db
def test_an_unexpected_error_in_one_removal_does_not_end_the_run_with_a_traceback(cluster, settings):
    for name in ("u1", "u2"):
        idle(sandboxes.create_sandbox(factories.UserFactory(username=name)), 40)
    settings.SANDBOX_CONNECT_TIMEOUT = -1  # accepted by the settings (see the settings section below)

    with pytest.raises(CommandError):
        expire_command("--days", "30")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["--days", "abc"], {}, 2, "argument --days: invalid int value: 'abc'"),
        (["--days", "-3"], {}, 1, "Sandboxes do not expire"),
        (["--days", "99999"], {}, 1, "--days may be at most 36500"),
        ([], {"SANDBOX_EXPIRE_DAYS": "thirty"}, 1, "SANDBOX_EXPIRE_DAYS must be a whole number"),
        ([], {"SANDBOX_EXPIRE_DAYS": "36501"}, 1, "SANDBOX_EXPIRE_DAYS may be at most 36500"),
        ([], {"SANDBOX_EXPIRE_DAYS": "-3"}, 1, "SANDBOX_EXPIRE_DAYS must be at least 0"),
        ([], {"SANDBOX_EXPIRE_DAYS": ""}, 1, "Sandboxes do not expire"),
        ([], {"SANDBOX_EXPIRE_DAYS": "inf"}, 1, "SANDBOX_EXPIRE_DAYS must be a whole number"),
    ],
)
def test_the_command_in_a_process_exits_with_a_message_and_no_traceback(args, env, code, message):
    status, output = portal_process(["expire_sandboxes", *args], **env)

    assert status == code, output
    assert message in output
    assert "Traceback" not in output


# === 3. A learner's token against the cluster ============================================================


@pytest.fixture
def learner(kube_emulator, tmp_path):
    load_rbac(kube_emulator)
    kube_emulator.add({
        "kind": "ClusterRole",
        "metadata": {"name": "cluster-admin"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    })  # fmt: skip
    kube_emulator.add({
        "kind": "ClusterRole",
        "metadata": {"name": "view"},
        "rules": [{"apiGroups": [""], "resources": ["pods", "nodes", "namespaces"], "verbs": ["get", "list"]}],
    })  # fmt: skip
    provisioner = Provisioner(provisioner_settings(kube_emulator, tmp_path))
    for namespace in (ADA, BOB):
        provisioner.create(namespace)
    return kube_emulator, provisioner.credentials(ADA).token


def learner_role_ref(name="kube-journeys-learner", kind="ClusterRole"):
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name}


@pytest.mark.parametrize(
    ("method", "body", "content_type"),
    [
        ("PATCH", {"metadata": {"labels": {MANAGED_BY_LABEL: None}}}, MERGE),
        ("PATCH", {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}, MERGE),
        ("PATCH", [{"op": "remove", "path": "/metadata/labels"}], JSON_PATCH),
        ("PUT", {"kind": "Namespace", "metadata": {"name": ADA, "labels": {}}}, "application/json"),
        ("DELETE", None, "application/json"),
    ],
    ids=["drop-the-portal-label", "privileged-pods", "json-patch-labels", "replace", "delete"],
)
def test_a_learner_cannot_change_or_remove_their_own_namespace(learner, method, body, content_type):
    emulator, token = learner
    before = namespace_of(emulator, ADA)

    status, answer = call(emulator, token, method, path_for("Namespace", name=ADA), body, content_type=content_type)

    assert status == 403, answer
    assert namespace_of(emulator, ADA) == before


@pytest.mark.parametrize(
    "rules",
    [
        [{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}],
        [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles"], "verbs": ["escalate"]}],
        [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"]}],
        [{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}],
        [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["patch", "delete"]}],
        [{"apiGroups": [""], "resources": ["limitranges"], "resourceNames": [GUARD_NAME], "verbs": ["update"]}],
        [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}],
        [{"apiGroups": [""], "resources": ["*/ephemeralcontainers"], "verbs": ["update"]}],
    ],
    ids=["impersonate-users", "escalate", "bind", "tokens", "namespace", "guard-by-name", "every-verb",
         "subresource-wildcard"],
)  # fmt: skip
def test_a_learner_cannot_write_a_role_granting_more_than_they_hold(learner, rules):
    emulator, token = learner
    role = {"kind": "Role", "metadata": {"name": "more"}, "rules": rules}

    status, answer = call(emulator, token, "POST", path_for("Role", ADA), role)

    assert status == 403
    assert "not currently held" in answer["message"]


def test_a_role_can_only_be_widened_afterwards_within_what_the_learner_holds(learner):
    emulator, token = learner
    role = {"kind": "Role", "metadata": {"name": "small"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}  # fmt: skip
    assert call(emulator, token, "POST", path_for("Role", ADA), role)[0] == 201

    widen = {"rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}
    status, _ = call(emulator, token, "PATCH", path_for("Role", ADA, "small"), widen, content_type=MERGE)

    assert status == 403
    assert emulator.get("Role", "small", ADA)["rules"] == role["rules"]


@pytest.mark.parametrize("cluster_role", ["cluster-admin", "view", "kube-journeys-provisioner"])
def test_a_learner_cannot_bind_a_cluster_role_other_than_their_own(learner, cluster_role):
    emulator, token = learner
    binding = {
        "kind": "RoleBinding",
        "metadata": {"name": "more"},
        "roleRef": learner_role_ref(cluster_role),
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": ADA}],
    }

    status, _ = call(emulator, token, "POST", path_for("RoleBinding", ADA), binding)

    assert status == 403
    assert emulator.get("RoleBinding", "more", ADA) is None


def test_a_learner_cannot_repoint_an_own_binding_to_a_stronger_role(learner):
    emulator, token = learner
    binding = {"kind": "RoleBinding", "metadata": {"name": "mine"}, "roleRef": learner_role_ref(),
               "subjects": [{"kind": "ServiceAccount", "name": "learner"}]}  # fmt: skip
    assert call(emulator, token, "POST", path_for("RoleBinding", ADA), binding)[0] == 201

    patch = {"roleRef": learner_role_ref("cluster-admin")}
    status, _ = call(emulator, token, "PATCH", path_for("RoleBinding", ADA, "mine"), patch, content_type=MERGE)

    assert status == 403


@pytest.mark.parametrize(
    "subject",
    [
        {"kind": "ServiceAccount", "name": "learner", "namespace": BOB},
        {"kind": "ServiceAccount", "name": "kube-journeys-provisioner", "namespace": "kube-journeys"},
        {"kind": "serviceaccount", "name": "learner"},
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccounts:{BOB}"},
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": f"system:serviceaccount:{BOB}:learner"},
    ],
    ids=["bobs-learner-via-patch", "the-provisioner", "lowercase-kind", "bobs-accounts-group", "bob-as-user"],
)
def test_a_learner_cannot_add_an_outsider_to_an_existing_binding_by_merge_patch(learner, subject):
    emulator, token = learner
    binding = {"kind": "RoleBinding", "metadata": {"name": "share"}, "roleRef": learner_role_ref(),
               "subjects": [{"kind": "ServiceAccount", "name": "reporter"}]}  # fmt: skip
    assert call(emulator, token, "POST", path_for("RoleBinding", ADA), binding)[0] == 201

    patch = {"subjects": [{"kind": "ServiceAccount", "name": "reporter"}, subject]}
    status, answer = call(emulator, token, "PATCH", path_for("RoleBinding", ADA, "share"), patch, content_type=MERGE)

    assert status == 403, answer
    assert emulator.get("RoleBinding", "share", ADA)["subjects"] == binding["subjects"]


def test_the_portals_binding_name_cannot_be_used_to_open_the_sandbox_once_it_is_missing(learner):
    """The guard policy skips its subject check for the name "kube-journeys-learner". While that binding
    is missing (an operator removed it, or the portal is between the delete and create of a repair), an
    account the learner had bound earlier recreates it for every authenticated user."""
    emulator, token = learner
    helper = {"kind": "ServiceAccount", "metadata": {"name": "helper"}}
    helper_binding = {"kind": "RoleBinding", "metadata": {"name": "helper"}, "roleRef": learner_role_ref(),
                      "subjects": [{"kind": "ServiceAccount", "name": "helper"}]}  # fmt: skip
    for obj in (helper, helper_binding):
        assert call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)[0] == 201
    helper_token = emulator.issue_token(ADA, "helper")
    emulator.remove("RoleBinding", ROLE_BINDING, ADA)
    everyone = {
        "kind": "RoleBinding",
        "metadata": {"name": ROLE_BINDING},
        "roleRef": learner_role_ref(),
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}],
    }

    status, _ = call(emulator, helper_token, "POST", path_for("RoleBinding", ADA), everyone)

    assert status == 403, "Bob could now read Ada's Secrets"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", path_for("ServiceAccount", BOB, "learner", "token"), {"spec": {}}),
        ("POST", path_for("ServiceAccount", ADA, "learner", "token"), {"spec": {"expirationSeconds": 600}}),
        ("POST", path_for("ServiceAccount", "kube-journeys", "kube-journeys-provisioner", "token"), {"spec": {}}),
        ("POST", path_for("RoleBinding", BOB), {"kind": "RoleBinding", "metadata": {"name": "in"},
                                               "roleRef": learner_role_ref(),
                                               "subjects": [{"kind": "ServiceAccount", "name": "learner",
                                                             "namespace": ADA}]}),
        ("DELETE", path_for("RoleBinding", BOB, ROLE_BINDING), None),
        ("PATCH", path_for("ServiceAccount", BOB, "learner"), {"metadata": {"labels": {"x": "y"}}}),
        ("GET", path_for("Secret", "kube-journeys"), None),
        ("GET", path_for("ClusterRoleBinding"), None),
        ("POST", path_for("ClusterRoleBinding"), {"kind": "ClusterRoleBinding", "metadata": {"name": "me"},
                                                 "roleRef": learner_role_ref(),
                                                 "subjects": [{"kind": "ServiceAccount", "name": "learner",
                                                               "namespace": ADA}]}),
        ("DELETE", path_for("ValidatingAdmissionPolicy", name="kube-journeys-sandbox-guards"), None),
        ("DELETE", path_for("ValidatingAdmissionPolicyBinding", name="kube-journeys-sandbox-guards"), None),
    ],
    ids=["token-in-another-sandbox", "token-for-itself", "token-of-the-provisioner", "bind-itself-in-another",
         "unbind-another", "label-another-account", "portal-secrets", "cluster-bindings", "cluster-binding",
         "drop-the-guard-policy", "drop-the-guard-binding"],
)  # fmt: skip
def test_a_learner_cannot_reach_out_of_the_sandbox(learner, method, path, body):
    emulator, token = learner

    content_type = MERGE if method == "PATCH" else "application/json"
    status, _ = call(emulator, token, method, path, body, content_type=content_type)

    assert status == 403


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"type": "kubernetes.io/service-account-token"}, MERGE),
        ([{"op": "replace", "path": "/type", "value": "kubernetes.io/service-account-token"}], JSON_PATCH),
        ({"type": "kubernetes.io/service-account-token", "metadata": {"labels": {MANAGED_BY_LABEL: None}}}, MERGE),
    ],
    ids=["merge-patch", "json-patch", "with-a-label-change"],
)
def test_a_secret_cannot_be_patched_into_a_token_secret(learner, body, content_type):
    emulator, token = learner
    plain = {"kind": "Secret", "metadata": {"name": "plain",
             "annotations": {"kubernetes.io/service-account.name": "learner"}}, "type": "Opaque"}  # fmt: skip
    assert call(emulator, token, "POST", path_for("Secret", ADA), plain)[0] == 201

    status, answer = call(emulator, token, "PATCH", path_for("Secret", ADA, "plain"), body, content_type=content_type)

    assert status == 403, answer
    assert emulator.get("Secret", "plain", ADA)["type"] == "Opaque"


@pytest.mark.parametrize(
    ("kind", "name", "patch"),
    [
        ("ResourceQuota", GUARD_NAME, {"metadata": {"labels": {MANAGED_BY_LABEL: None}}}),
        ("LimitRange", GUARD_NAME, {"metadata": {"name": "team-defaults"}}),
        ("ServiceAccount", SERVICE_ACCOUNT, {"metadata": {"labels": {MANAGED_BY_LABEL: None}}}),
        ("ServiceAccount", SERVICE_ACCOUNT, {"automountServiceAccountToken": True}),
        ("RoleBinding", ROLE_BINDING, {"metadata": {"labels": {MANAGED_BY_LABEL: None}}}),
    ],
    ids=["quota-label", "limits-rename", "account-label", "account-automount", "binding-label"],
)
def test_label_and_name_tricks_on_the_guard_objects_are_refused(learner, kind, name, patch):
    emulator, token = learner
    before = emulator.get(kind, name, ADA)

    status, _ = call(emulator, token, "PATCH", path_for(kind, ADA, name), patch, content_type=MERGE)

    assert status in (400, 403)
    assert emulator.get(kind, name, ADA) == before


def test_acting_as_an_own_account_gives_no_way_round_the_guards(learner):
    emulator, token = learner
    helper = {"kind": "ServiceAccount", "metadata": {"name": "helper"}}
    binding = {"kind": "RoleBinding", "metadata": {"name": "helper"}, "roleRef": learner_role_ref(),
               "subjects": [{"kind": "ServiceAccount", "name": "helper"}]}  # fmt: skip
    for obj in (helper, binding):
        assert call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)[0] == 201
    as_helper = f"system:serviceaccount:{ADA}:helper"

    attempts = [
        ("DELETE", path_for("ServiceAccount", ADA, SERVICE_ACCOUNT), None),
        ("DELETE", path_for("RoleBinding", ADA, ROLE_BINDING), None),
        ("DELETE", path_for("ResourceQuota", ADA, GUARD_NAME), None),
        ("POST", path_for("Secret", ADA), {"kind": "Secret", "metadata": {"name": "forever"},
                                          "type": "kubernetes.io/service-account-token"}),
        ("GET", path_for("Secret", BOB), None),
    ]  # fmt: skip
    for method, path, body in attempts:
        status, _ = call(emulator, token, method, path, body, acting_as=as_helper)
        assert status == 403, (method, path)
    assert emulator.get("ServiceAccount", SERVICE_ACCOUNT, ADA) is not None


@pytest.mark.parametrize(
    "someone",
    [
        f"system:serviceaccount:{ADA}",
        f"system:serviceaccount:{BOB}:learner:extra",
        f"system:serviceaccount:{BOB}:helper",
        "system:serviceaccount:kube-system:default",
        "system:anonymous",
        "system:admin",
        f"system:serviceaccount:{ADA.upper()}:learner",
        "",
    ],
    ids=["no-account-name", "extra-part", "bob-other-account", "kube-system", "anonymous", "admin", "uppercase",
         "empty"],
)  # fmt: skip
def test_impersonation_reaches_only_the_sandboxes_own_accounts(learner, someone):
    emulator, token = learner

    status, answer = call(emulator, token, "GET", path_for("Secret", BOB), acting_as=someone)

    assert status == 403, answer


# === 5. Settings from the environment =====================================================================


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SANDBOX_CONNECT_TIMEOUT", "soon"),
        ("SANDBOX_CONNECT_TIMEOUT", "nan"),
        ("SANDBOX_READ_TIMEOUT", "inf"),
        ("SANDBOX_READ_TIMEOUT", "-inf"),
        ("SANDBOX_RESET_WAIT", "NaN"),
        ("SANDBOX_TOKEN_SECONDS", "8h"),
        ("SANDBOX_TOKEN_SECONDS", "1e4"),
        ("SANDBOX_EXPIRE_DAYS", "99999999999999999999"),
        ("SANDBOX_CHANGES_PER_MINUTE", "three"),
        ("SANDBOX_TOKENS_PER_MINUTE", "6.5"),
        ("SANDBOX_RUNS_PER_MINUTE", "0x10"),
        ("SANDBOX_CHECK_WAIT", "infinity"),
        ("SANDBOX_QUOTA", "{pods: 40}"),
        ("SANDBOX_LIMITS", "{'max': {}}"),
        pytest.param("SANDBOX_QUOTA", "[" * 5000, id="SANDBOX_QUOTA-deeply-nested"),
    ],
)
def test_a_setting_that_is_not_what_it_should_be_stops_the_start_cleanly(name, value):
    status, output = portal_process(["check"], **{name: value})

    assert status != 0
    assert name in output and "will not start" in output
    assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value"), [("SANDBOX_QUOTA", ""), ("SANDBOX_LIMITS", " "), ("SANDBOX_TOKEN_SECONDS", "")]
)
def test_an_empty_setting_is_the_default(name, value):
    status, output = portal_process(["check"], **{name: value})
    # " " is not empty to env_json: it is handed to json.loads and refused with the setting's name.
    assert status == 0 or (name in output and "Traceback" not in output), output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SANDBOX_QUOTA", '"pods=40"'),
        ("SANDBOX_QUOTA", "null"),
        ("SANDBOX_QUOTA", "40"),
        ("SANDBOX_QUOTA", "[]"),
        ("SANDBOX_QUOTA", '[["pods", "40"]]'),
        ("SANDBOX_QUOTA", '{"pods": {"max": "40"}}'),
        ("SANDBOX_LIMITS", '["default"]'),
        ("SANDBOX_LIMITS", '{"default": 5}'),
        ("SANDBOX_CONNECT_TIMEOUT", "0"),
        ("SANDBOX_READ_TIMEOUT", "-1"),
        ("SANDBOX_CONNECT_TIMEOUT", "1e308"),
        ("SANDBOX_TOKEN_SECONDS", "60"),
        ("SANDBOX_TOKEN_SECONDS", "99999999999999999999"),
        ("SANDBOX_RESET_WAIT", "1e308"),
        ("SANDBOX_CHECK_WAIT", "-1"),
    ],
)
def test_a_setting_of_the_wrong_shape_or_range_is_refused_at_start(name, value):
    status, output = portal_process(["check"], **{name: value})

    assert status != 0 and name in output, output


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value"),
    [("SANDBOX_QUOTA", "pods=40"), ("SANDBOX_QUOTA", None), ("SANDBOX_QUOTA", 40), ("SANDBOX_LIMITS", [1, 2])],
    ids=["string", "null", "number", "list-of-numbers"],
)
def test_a_quota_of_the_wrong_shape_never_breaks_the_sandbox_page(cluster, ada, client, settings, name, value):
    setattr(settings, name, value)
    client.force_login(ada)
    client.raise_request_exception = False

    response = client.get(reverse("journeys:my_sandbox"))

    assert response.status_code < 500


@pytest.mark.django_db
def test_a_quota_given_as_an_empty_list_is_not_an_unlimited_guard(cluster, ada, settings):
    settings.SANDBOX_QUOTA = []

    # Rather than a guard that limits nothing, no sandbox at all (and `manage.py check` says why).
    with pytest.raises(ProvisioningError) as refused:
        sandboxes.create_sandbox(ada)

    assert refused.value.code == "disabled"
    assert cluster.get("Namespace", ADA, "") is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value"),
    [("SANDBOX_CONNECT_TIMEOUT", 0), ("SANDBOX_CONNECT_TIMEOUT", -1), ("SANDBOX_READ_TIMEOUT", -0.5)],
)
def test_a_timeout_of_zero_or_less_is_a_message_not_a_500(cluster, ada, client, settings, name, value):
    setattr(settings, name, value)
    client.force_login(ada)
    client.raise_request_exception = False

    response = client.post(reverse("journeys:sandbox_create"), {"confirm": "yes"})

    assert response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("seconds", [-5, 60, 2**32 + 1, 10**23])
def test_a_token_lifetime_the_cluster_refuses_is_a_message(cluster, ada, settings, seconds):
    sandboxes.create_sandbox(ada)
    settings.SANDBOX_TOKEN_SECONDS = seconds
    cluster.reset_requests()

    with pytest.raises(ProvisioningError) as refused:
        sandboxes.sandbox_credentials(ada)

    # Provisioning is off until the setting is mended (`manage.py check` says so): no request is made.
    assert refused.value.code == "disabled"
    assert cluster.request_count(r"/token$") == 0


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12),
        st.sampled_from(["nan", "inf", "-inf", "1e999", "  7  ", "0x10", "1_000", "٣"]),
    )
)
def test_env_numbers_either_parse_or_stop_with_the_name(value, monkeypatch):
    from portal import env

    monkeypatch.setenv("SANDBOX_PROBE", value)
    try:
        number = env.env_float("SANDBOX_PROBE", 5)
    except SystemExit as stop:
        assert "SANDBOX_PROBE" in str(stop)
    else:
        assert number == number and abs(number) != float("inf")
    try:
        whole = env.env_int("SANDBOX_PROBE", 5, maximum=36500)
    except SystemExit as stop:
        assert "SANDBOX_PROBE" in str(stop)
    else:
        assert isinstance(whole, int) and whole <= 36500
