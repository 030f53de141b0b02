"""The sandbox services: the Sandbox row follows the cluster, every action leaves an audit event, and an
account deletion removes the learner's sandbox (and still succeeds when the cluster does not answer)."""

import socket

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse

from journeys.models import ProvisioningEvent, Sandbox
from journeys.sandbox import sandboxes
from journeys.sandbox.provisioning import GUARD_NAME, ProvisioningError
from tests import factories
from tests.sandbox.provisioning_support import PROVISIONER_TOKEN, enable_provisioning

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = pytest.mark.django_db

Action, Outcome, State = ProvisioningEvent.Action, ProvisioningEvent.Outcome, Sandbox.State


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    settings.SANDBOX_RESET_WAIT = 0.3
    return enable_provisioning(kube_emulator, tmp_path, settings)


@pytest.fixture
def ada(db):
    return factories.UserFactory(username="Ada")


def events():
    return list(ProvisioningEvent.objects.order_by("id").values_list("action", "namespace", "outcome"))


def test_off_by_default_nothing_is_provisioned(ada):
    with pytest.raises(ProvisioningError) as exc_info:
        sandboxes.create_sandbox(ada)

    assert exc_info.value.code == "disabled"
    assert not Sandbox.objects.exists() and not ProvisioningEvent.objects.exists()


def test_create_records_the_sandbox_and_the_event(cluster, ada):
    sandbox = sandboxes.create_sandbox(ada)

    assert (sandbox.namespace, sandbox.state, sandbox.last_error) == ("learn-ada", State.READY, "")
    assert sandbox.last_checked is not None
    assert cluster.get("ResourceQuota", GUARD_NAME, "learn-ada") is not None
    assert events() == [(Action.CREATE, "learn-ada", Outcome.OK)]
    event = ProvisioningEvent.objects.get()
    assert (event.actor, event.actor_name, event.learner_name) == (ada, "Ada", "Ada")


def test_an_admin_acting_for_a_learner_is_the_recorded_actor(cluster, ada):
    admin = factories.UserFactory(username="root", is_staff=True)

    sandboxes.create_sandbox(ada, actor=admin)

    event = ProvisioningEvent.objects.get()
    assert (event.actor_name, event.learner_name) == ("root", "Ada")


def test_a_failure_is_stored_for_operators_and_raised_for_the_learner(cluster, ada, caplog):
    cluster.fail(r"/rolebindings$", 403, times=1)

    with pytest.raises(ProvisioningError) as exc_info:
        sandboxes.create_sandbox(ada)

    assert "not allowed to create rolebindings" in exc_info.value.message
    sandbox = Sandbox.objects.get()
    assert sandbox.state == State.FAILED
    assert sandbox.last_error.startswith("forbidden: create rolebindings in learn-ada: 403")
    assert events() == [(Action.CREATE, "learn-ada", Outcome.FAILED)]
    assert "forbidden" in caplog.text
    # The retry completes it.
    assert sandboxes.create_sandbox(ada).state == State.READY


def test_reset_while_the_old_namespace_terminates_is_pending(cluster, ada):
    cluster.namespace_termination_seconds = 30
    sandboxes.create_sandbox(ada)

    assert sandboxes.reset_sandbox(ada).state == State.TERMINATING
    cluster.finish_termination()
    assert sandboxes.reset_sandbox(ada).state == State.READY

    assert events() == [
        (Action.CREATE, "learn-ada", Outcome.OK),
        (Action.RESET, "learn-ada", Outcome.PENDING),
        (Action.RESET, "learn-ada", Outcome.OK),
    ]


def test_credentials_are_recorded_but_never_stored(cluster, ada):
    sandboxes.create_sandbox(ada)

    credentials = sandboxes.sandbox_credentials(ada)

    assert credentials.namespace == "learn-ada"
    event = ProvisioningEvent.objects.filter(action=Action.TOKEN).get()
    assert event.outcome == Outcome.OK and credentials.token not in event.reason
    stored = " ".join(str(value) for value in Sandbox.objects.values_list().get())
    assert credentials.token not in stored


def test_no_credentials_without_a_sandbox(cluster, ada):
    with pytest.raises(ProvisioningError) as exc_info:
        sandboxes.sandbox_credentials(ada)
    assert exc_info.value.code == "no-sandbox"


def test_delete_removes_the_row_and_keeps_the_event(cluster, ada):
    sandboxes.create_sandbox(ada)

    assert sandboxes.delete_sandbox(ada) == "learn-ada"

    assert not Sandbox.objects.exists()
    assert events()[-1] == (Action.DELETE, "learn-ada", Outcome.OK)
    assert sandboxes.delete_sandbox(ada) is None


def test_two_accounts_that_map_to_one_namespace(cluster, ada):
    sandboxes.create_sandbox(ada)
    twin = factories.UserFactory(username="ada")

    with pytest.raises(ProvisioningError) as exc_info:
        sandboxes.create_sandbox(twin)

    assert exc_info.value.code == "taken"


def test_deleting_the_account_deletes_the_sandbox(cluster, ada, client):
    sandboxes.create_sandbox(ada)
    client.force_login(ada)

    response = client.post(reverse("journeys:account_delete"), {"password": "correct-horse-battery"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=ada.pk).exists()
    assert cluster.get("Namespace", "learn-ada", "") is None
    assert not Sandbox.objects.exists()
    event = ProvisioningEvent.objects.order_by("id").last()
    assert (event.action, event.outcome, event.actor, event.actor_name) == (Action.DELETE, Outcome.OK, None, "Ada")


def test_account_deletion_succeeds_when_the_cluster_is_unreachable(cluster, ada, client, settings, tmp_path):
    sandboxes.create_sandbox(ada)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
        cluster.write_kubeconfig(tmp_path / "gone", server=f"http://127.0.0.1:{port}", token=PROVISIONER_TOKEN)
    )
    client.force_login(ada)

    response = client.post(reverse("journeys:account_delete"), {"password": "correct-horse-battery"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=ada.pk).exists()
    orphan = Sandbox.objects.get()
    assert (orphan.user, orphan.namespace, orphan.state) == (None, "learn-ada", State.FAILED)
    assert orphan.last_error.startswith("unreachable")
    event = ProvisioningEvent.objects.order_by("id").last()
    assert (event.action, event.outcome, event.actor_name) == (Action.DELETE, Outcome.FAILED, "Ada")
    assert event.reason.startswith("unreachable")


def test_account_deletion_tries_the_cluster_once_when_it_fails(
    cluster, ada, client, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    cluster.fail(r"/namespaces/learn-ada$", 500, method="DELETE")
    cluster.reset_requests()
    client.force_login(ada)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("journeys:account_delete"), {"password": "correct-horse-battery"})

    assert response.status_code == 302
    assert [request.method for request in cluster.requests if request.path.endswith("/learn-ada")].count("DELETE") == 1
    assert Sandbox.objects.get().user is None  # left for expire_sandboxes


@pytest.fixture
def admin_user(client):
    boss = factories.UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    return boss


def test_deleting_an_account_in_admin_deletes_its_sandbox(
    cluster, ada, client, admin_user, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:auth_user_delete", args=[ada.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=ada.pk).exists()
    assert cluster.get("Namespace", "learn-ada", "") is None
    assert not Sandbox.objects.exists()
    event = ProvisioningEvent.objects.order_by("id").last()
    assert (event.action, event.outcome, event.actor_name) == (Action.DELETE, Outcome.OK, "system")
    assert "the account Ada was deleted" in event.reason


def test_deleting_accounts_in_bulk_deletes_each_sandbox(
    cluster, ada, client, admin_user, django_capture_on_commit_callbacks
):
    bob = factories.UserFactory(username="bob")
    carol = factories.UserFactory(username="carol")  # no sandbox: nothing to remove
    for learner in (ada, bob):
        sandboxes.create_sandbox(learner)
    selected = {"action": "delete_selected", "_selected_action": [ada.pk, bob.pk, carol.pk], "post": "yes"}

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:auth_user_changelist"), selected)

    assert not get_user_model().objects.filter(pk__in=[ada.pk, bob.pk, carol.pk]).exists()
    assert not Sandbox.objects.exists()
    assert {cluster.get("Namespace", name, "") for name in ("learn-ada", "learn-bob")} == {None}


def test_a_deletion_that_rolls_back_keeps_the_sandbox(cluster, ada, django_capture_on_commit_callbacks):
    sandboxes.create_sandbox(ada)
    account_id = ada.pk

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        ada.delete()
        raise RuntimeError("something later in the same deletion failed")

    assert callbacks == []
    assert Sandbox.objects.get().user_id == account_id
    assert cluster.get("Namespace", "learn-ada", "") is not None


def test_an_account_deleted_while_provisioning_is_off_leaves_an_orphan_for_later(
    cluster, ada, settings, django_capture_on_commit_callbacks
):
    sandboxes.create_sandbox(ada)
    settings.SANDBOX_PROVISIONING = False
    cluster.reset_requests()

    with django_capture_on_commit_callbacks(execute=True):
        ada.delete()

    assert cluster.requests == []
    assert Sandbox.objects.get().user is None


def test_account_deletion_without_a_sandbox_makes_no_call(cluster, ada, client):
    cluster.reset_requests()
    client.force_login(ada)

    client.post(reverse("journeys:account_delete"), {"password": "correct-horse-battery"})

    assert cluster.requests == []
    assert not ProvisioningEvent.objects.exists()


def test_admin_lists_sandboxes_read_only(cluster, ada, admin_client):
    sandboxes.create_sandbox(ada)

    listing = admin_client.get(reverse("admin:journeys_sandbox_changelist"))
    trail = admin_client.get(reverse("admin:journeys_provisioningevent_changelist"))

    assert listing.status_code == 200 and "learn-ada" in listing.content.decode()
    assert trail.status_code == 200 and "learn-ada" in trail.content.decode()
    assert admin_client.get(reverse("admin:journeys_sandbox_add")).status_code == 403
