"""Admin provisions and removes sandboxes for whole cohorts, reports counts, and never 500s on a cluster fault."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from journeys.models import LabRun, ProvisioningEvent, Sandbox
from journeys.sandbox import sandboxes
from tests import factories
from tests.sandbox.provisioning_support import PROVISIONER_TOKEN, enable_provisioning

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = pytest.mark.django_db

GROUPS = reverse("admin:auth_group_changelist")
SANDBOXES = reverse("admin:journeys_sandbox_changelist")


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    return enable_provisioning(kube_emulator, tmp_path, settings)


@pytest.fixture
def boss(client):
    user = factories.UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def cohort():
    group = Group.objects.create(name="spring")
    for name in ("ada", "bob"):
        factories.UserFactory(username=name).groups.add(group)
    return group


def act(client, url, action, pks):
    return client.post(url, {"action": action, "_selected_action": pks}, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def test_a_cohort_gets_its_sandboxes_with_the_admin_as_actor(cluster, client, boss, cohort):
    response = act(client, GROUPS, "create_cohort_sandboxes", [cohort.pk])
    assert response.status_code == 200
    assert messages_of(response) == ["Sandboxes ready: 2."]
    assert set(Sandbox.objects.values_list("namespace", flat=True)) == {"learn-ada", "learn-bob"}
    events = ProvisioningEvent.objects.filter(action="create")
    assert {(event.actor_name, event.learner_name) for event in events} == {("boss", "ada"), ("boss", "bob")}


def test_a_cohort_loses_its_sandboxes(cluster, client, boss, cohort):
    act(client, GROUPS, "create_cohort_sandboxes", [cohort.pk])
    response = act(client, GROUPS, "remove_cohort_sandboxes", [cohort.pk])
    assert messages_of(response) == ["Sandboxes removed: 2."]
    assert not Sandbox.objects.exists()
    assert cluster.get("Namespace", "learn-ada", "") is None


def test_an_unreachable_cluster_is_counted_not_a_500(cluster, client, boss, cohort, settings, tmp_path):
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
        cluster.write_kubeconfig(tmp_path / "gone", token=PROVISIONER_TOKEN, server="http://127.0.0.1:9")
    )
    response = act(client, GROUPS, "create_cohort_sandboxes", [cohort.pk])
    assert response.status_code == 200
    summary, failures = messages_of(response)
    assert summary == "Sandboxes ready: 0, 2 failed."
    assert "ada: The portal cannot reach the cluster" in failures
    assert ProvisioningEvent.objects.filter(outcome="failed").count() == 2


def test_selected_sandboxes_are_removed_from_the_cluster_too(cluster, client, boss):
    ada, bob = factories.UserFactory(username="ada"), factories.UserFactory(username="bob")
    first, second = sandboxes.create_sandbox(ada), sandboxes.create_sandbox(bob)
    cluster.fail(r"/namespaces/learn-bob$", 503, "down", method="DELETE")
    response = act(client, SANDBOXES, "remove_selected", [first.pk, second.pk])
    assert response.status_code == 200
    summary, failures = messages_of(response)
    assert summary == "Sandboxes removed: 1, 1 failed."
    assert failures.startswith("Failed: learn-bob:")
    assert list(Sandbox.objects.values_list("namespace", flat=True)) == ["learn-bob"]
    assert ProvisioningEvent.objects.get(action="delete", namespace="learn-ada").actor_name == "boss"


def test_sandbox_rows_cannot_be_deleted_without_their_namespace(cluster, client, boss):
    sandbox = sandboxes.create_sandbox(factories.UserFactory(username="ada"))
    page = client.get(SANDBOXES).content.decode()
    assert "remove_selected" in page and "delete_selected" not in page
    assert client.get(reverse("admin:journeys_sandbox_delete", args=[sandbox.pk])).status_code == 403


def test_the_audit_trail_is_listed_and_filtered(cluster, client, boss):
    sandboxes.create_sandbox(factories.UserFactory(username="ada"))
    url = reverse("admin:journeys_provisioningevent_changelist")
    page = client.get(url, {"action__exact": "create", "q": "ada"}).content.decode()
    assert "learn-ada" in page
    assert "learn-ada" not in client.get(url, {"outcome__exact": "failed"}).content.decode()


def test_cohort_actions_are_hidden_with_provisioning_off(client, boss, cohort):
    page = client.get(GROUPS).content.decode()
    assert "create_cohort_sandboxes" not in page and "download_cohort_report" in page


def listing_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SANDBOXES).status_code == 200
    return len(queries)


def test_the_list_shows_each_sandboxs_last_lab_check(cluster, client, boss):
    ada, bob = factories.UserFactory(username="ada"), factories.UserFactory(username="bob")
    for learner in (ada, bob):
        sandboxes.create_sandbox(learner)
    lesson = factories.LessonFactory()
    checked_at = timezone.now() - datetime.timedelta(days=3)
    for namespace, when in (("learn-ada", checked_at), ("elsewhere", timezone.now())):
        # The later check read another namespace: it is not this sandbox's.
        run = LabRun.objects.create(user=ada, lab_slug="batch-pi", lesson=lesson, source="api", namespace=namespace,
                                    outcome="pass")  # fmt: skip
        LabRun.objects.filter(pk=run.pk).update(created_at=when)

    page = client.get(SANDBOXES).content.decode()

    rows = {name: page[page.index(name) :].split("</tr>", 1)[0] for name in ("learn-ada", "learn-bob")}
    assert date_format(timezone.localtime(checked_at), "DATETIME_FORMAT") in rows["learn-ada"]
    assert "never" in rows["learn-bob"]
    assert "Last lab check" in page and "Last seen by the portal" in page


def test_the_list_costs_the_same_queries_for_more_sandboxes(cluster, client, boss):
    sandboxes.create_sandbox(factories.UserFactory(username="ada"))
    one = listing_queries(client)
    for name in ("bob", "carol", "dan"):
        sandboxes.create_sandbox(factories.UserFactory(username=name))

    assert listing_queries(client) == one
