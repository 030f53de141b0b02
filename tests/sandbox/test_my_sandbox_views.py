"""A learner's own sandbox from the dashboard: create, download a kubeconfig, reset, delete, against the emulator.

Every address acts on the signed-in learner's sandbox only; with provisioning off they are 404 and the
dashboard shows nothing new; every refusal from the cluster is a learner's message with a 4xx or 503.
"""

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from journeys.models import ProvisioningEvent, Sandbox
from journeys.sandbox.mine import kubectl_commands
from tests import factories
from tests.sandbox.provisioning_support import PROVISIONER_TOKEN, call, enable_provisioning, path_for

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("journeys:dashboard")
CREATE = reverse("journeys:sandbox_create")
RESET = reverse("journeys:sandbox_reset")
DELETE = reverse("journeys:sandbox_delete")
KUBECONFIG = reverse("journeys:sandbox_kubeconfig")
COMMANDS = reverse("journeys:sandbox_commands")
PAGE = reverse("journeys:my_sandbox")


@pytest.fixture
def cluster(kube_emulator, tmp_path, settings):
    settings.SANDBOX_RESET_WAIT = 0.3
    return enable_provisioning(kube_emulator, tmp_path, settings)


@pytest.fixture
def ada(client):
    user = factories.UserFactory(username="ada")
    client.force_login(user)
    return user


def create(client, **extra):
    return client.post(CREATE, {"next": DASHBOARD}, **extra)


def test_dashboard_offers_a_sandbox_in_plain_words(cluster, client, ada):
    page = client.get(DASHBOARD).content.decode()
    assert "Your sandbox" in page and "Create my sandbox" in page
    assert "works for 8 hours" in page


@pytest.mark.parametrize(
    ("days", "promise"), [(0, None), (1, "after 1 day without use"), (30, "after 30 days without use")]
)
def test_the_learner_is_told_when_an_unused_sandbox_goes(cluster, client, ada, settings, days, promise):
    settings.SANDBOX_EXPIRE_DAYS = days
    before = client.get(DASHBOARD).content.decode()
    create(client)
    after = client.get(DASHBOARD).content.decode()

    for page in (before, after):
        assert ("without use" in page or "nobody uses" in page) == bool(days)
    if promise:
        assert promise in after
        assert f"nobody uses for {days} day" in before


def test_create_without_javascript_redirects_back_with_a_message(cluster, client, ada):
    response = create(client)
    assert response.status_code == 302 and response.url == DASHBOARD
    sandbox = Sandbox.objects.get(user=ada)
    assert (sandbox.namespace, sandbox.state) == ("learn-ada", Sandbox.State.READY)
    assert cluster.get("Namespace", "learn-ada", "") is not None
    page = client.get(DASHBOARD).content.decode()
    assert "Your sandbox is ready" in page and "learn-ada" in page and "Download kubeconfig" in page
    assert "emulated." not in page  # no token in a page that may be stored
    event = ProvisioningEvent.objects.get(action="create")
    assert (event.actor, event.outcome) == (ada, "ok")


def test_create_with_htmx_answers_the_section(cluster, client, ada):
    response = create(client, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="my-sandbox"') and "learn-ada" in html


def test_the_kubeconfig_is_a_fresh_attachment_the_cluster_accepts(cluster, client, ada):
    create(client)
    first = client.get(KUBECONFIG)
    assert first.status_code == 200
    assert first["Content-Disposition"] == 'attachment; filename="kubeconfig-learn-ada.yaml"'
    assert "no-store" in first["Cache-Control"]
    document = yaml.safe_load(first.content)
    [context] = document["contexts"]
    assert context["context"]["namespace"] == "learn-ada"
    token = document["users"][0]["user"]["token"]
    status, _ = call(cluster, token, "GET", path_for("Pod", "learn-ada"))
    assert status == 200
    status, _ = call(cluster, token, "GET", path_for("Pod", "kube-journeys"))
    assert status == 403
    second = yaml.safe_load(client.get(KUBECONFIG).content)
    assert second["users"][0]["user"]["token"] != token
    assert ProvisioningEvent.objects.filter(action="token", outcome="ok").count() == 2


def test_the_commands_are_fetched_on_request_and_never_stored(cluster, client, ada):
    create(client)
    response = client.get(COMMANDS, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "kubectl config set-credentials learn-ada-learner --token=emulated." in html
    assert "kubectl config use-context sandbox-learn-ada" in html
    assert "--namespace=learn-ada" in html


def test_kubectl_commands_quote_what_a_shell_would_split():
    text = yaml.safe_dump({
        "clusters": [{"name": "c", "cluster": {"server": "https://a b", "certificate-authority-data": "QUJD"}}],
        "users": [{"name": "u", "user": {"token": "t;rm"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "n"}}],
    })  # fmt: skip
    commands = kubectl_commands(text)
    assert "--server='https://a b'" in commands and "--token='t;rm'" in commands
    assert "clusters.c.certificate-authority-data QUJD" in commands


def test_reset_asks_for_confirmation_first(cluster, client, ada):
    create(client)
    response = client.post(RESET, {"next": DASHBOARD})
    assert response.status_code == 200
    assert "Yes, reset my sandbox" in response.content.decode()
    assert not ProvisioningEvent.objects.filter(action="reset").exists()


def test_reset_rebuilds_the_namespace(cluster, client, ada):
    create(client)
    cluster.add({"kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "learn-ada"}, "data": {}})
    response = client.post(RESET, {"next": DASHBOARD, "confirm": "yes"})
    assert response.status_code == 302
    assert cluster.get("ConfigMap", "mine", "learn-ada") is None
    assert Sandbox.objects.get(user=ada).state == Sandbox.State.READY


def test_reset_while_the_old_namespace_terminates_says_so_and_can_be_finished(cluster, client, ada):
    create(client)
    cluster.namespace_termination_seconds = 30
    response = client.post(RESET, {"next": DASHBOARD, "confirm": "yes"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 202
    assert "still being removed" in response.content.decode()
    assert Sandbox.objects.get(user=ada).state == Sandbox.State.TERMINATING
    assert "Finish setting up my sandbox" in client.get(DASHBOARD).content.decode()
    still = create(client, HTTP_HX_REQUEST="true")
    assert still.status_code == 409 and "removed" in still.content.decode()
    cluster.finish_termination()
    assert create(client).status_code == 302
    assert Sandbox.objects.get(user=ada).state == Sandbox.State.READY


def test_delete_asks_then_removes(cluster, client, ada):
    create(client)
    assert "Yes, delete my sandbox" in client.post(DELETE).content.decode()
    assert Sandbox.objects.filter(user=ada).exists()
    response = client.post(DELETE, {"confirm": "yes", "next": DASHBOARD})
    assert response.status_code == 302
    assert not Sandbox.objects.filter(user=ada).exists()
    assert "Create my sandbox" in client.get(DASHBOARD).content.decode()


def test_someone_else_acts_only_on_their_own(cluster, client, ada):
    create(client)
    client.force_login(factories.UserFactory(username="bob"))
    assert client.post(DELETE, {"confirm": "yes"}).status_code == 302
    assert Sandbox.objects.filter(user=ada).exists()
    assert cluster.get("Namespace", "learn-ada", "") is not None
    refused = client.get(KUBECONFIG)
    assert refused.status_code == 409 and "Create it first" in refused.content.decode()


def test_anonymous_visitors_are_told_to_sign_up(cluster, client):
    for response in (client.post(CREATE), client.get(KUBECONFIG), client.post(RESET, {"confirm": "yes"})):
        assert response.status_code == 403
        assert "Create an account" in response.content.decode()
    assert "Create an account</a> (or" in client.get(DASHBOARD).content.decode()
    assert not Sandbox.objects.exists()


def test_provisioning_off_hides_everything(client, ada):
    for url in (PAGE, KUBECONFIG, COMMANDS):
        assert client.get(url).status_code == 404
    for url in (CREATE, RESET, DELETE):
        assert client.post(url, {"confirm": "yes"}).status_code == 404
    with CaptureQueriesContext(connection) as queries:
        page = client.get(DASHBOARD).content.decode()
    assert "my-sandbox" not in page
    assert not [query for query in queries.captured_queries if "journeys_sandbox" in query["sql"]]


@pytest.mark.parametrize(
    ("status", "message", "expected", "words"),
    [
        (403, "forbidden", 503, "not allowed"),
        (401, "no", 503, "did not accept"),
        (500, "boom", 503, "answered with an error"),
    ],
)
def test_cluster_faults_become_messages_not_errors(cluster, client, ada, status, message, expected, words):
    cluster.fail(r"/api/v1/namespaces", status, message)
    response = create(client, HTTP_HX_REQUEST="true")
    assert response.status_code == expected
    assert words in response.content.decode()
    assert ProvisioningEvent.objects.get(action="create").outcome == "failed"


def test_an_unreachable_cluster_is_a_503_with_a_retry(cluster, client, ada, settings, tmp_path):
    settings.SANDBOX_PROVISIONER_KUBECONFIG = str(
        cluster.write_kubeconfig(tmp_path / "gone", token=PROVISIONER_TOKEN, server="http://127.0.0.1:9")
    )
    response = create(client)
    assert response.status_code == 503 and response["Retry-After"]
    assert "cannot reach the cluster" in response.content.decode()


def test_create_and_tokens_are_rate_limited_per_learner(cluster, client, ada, settings):
    settings.SANDBOX_CHANGES_PER_MINUTE = 1
    settings.SANDBOX_TOKENS_PER_MINUTE = 1
    assert create(client).status_code == 302
    limited = create(client)
    assert limited.status_code == 429 and "Try again in" in limited.content.decode()
    assert client.get(KUBECONFIG).status_code == 200
    assert client.get(KUBECONFIG).status_code == 429


def test_a_provisioned_learners_lab_panel_names_the_namespace_checked(cluster, client, ada, settings, kubeconfig):
    settings.SANDBOX_KUBECONFIG = str(kubeconfig)
    call_load_journeys()
    from journeys.sandbox.labs import LABS

    lab = next(iter(LABS.values()))
    url = reverse("journeys:lab_check", args=[lab.slug])
    lesson_page = client.get(lesson_url_of(lab)).content.decode()
    assert "Create my sandbox" in lesson_page
    create(client)
    lesson_page = client.get(lesson_url_of(lab)).content.decode()
    assert "reads your namespace <code>learn-ada</code>" in lesson_page
    assert url


def call_load_journeys():
    from django.core.management import call_command

    call_command("load_journeys", verbosity=0)


def lesson_url_of(lab):
    from journeys.models import Lesson

    return Lesson.objects.get(slug=lab.lesson).get_absolute_url()


@pytest.mark.parametrize("next_url", ["https://elsewhere.example/", "//elsewhere.example/", "/sandbox/create/"])
def test_the_way_back_stays_on_the_portal(cluster, client, ada, next_url):
    response = client.post(CREATE, {"next": next_url})
    assert response.status_code == 302 and response.url == DASHBOARD


def test_the_page_without_javascript_shows_the_commands_with_no_store(cluster, client, ada):
    create(client)
    response = client.get(COMMANDS, {"next": "/journeys/"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "<h1>Your sandbox on the cluster</h1>" in page and "kubectl config use-context" in page
    assert 'href="/journeys/">Back</a>' in page
