"""The lab panel: checking pasted output or the learner's namespace, errors, rate limits and privacy."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from journeys.models import LabRun, LessonProgress, SandboxAssignment
from tests import factories

pytest_plugins = ["tests.k8s_emulator"]
pytestmark = pytest.mark.django_db


def cronjob(namespace="team-a", **spec_changes):
    spec = {
        "schedule": "00 02 * * *",
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 600,
        "jobTemplate": {
            "spec": {
                "template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "b", "image": "busybox"}]}}
            }
        },
    } | spec_changes
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": namespace},
        "spec": spec,
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def cronjobs_lesson():
    module = factories.ModuleFactory()
    return factories.LessonFactory(module=module, slug="cronjobs", title="CronJobs")


def check(client, data, *, htmx=True, lab="nightly-backup"):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("journeys:lab_check", args=[lab]), data, headers=headers)


def test_lesson_page_shows_the_lab_panel(client, cronjobs_lesson):
    page = client.get(cronjobs_lesson.get_absolute_url()).content.decode()
    assert 'id="lab"' in page and "Lab: A nightly CronJob" in page
    assert "Show a reference solution" in page and "kind: CronJob" in page
    assert 'name="paste"' in page and 'type="file"' in page


def test_pasted_output_is_checked_and_a_pass_completes_the_lesson(client, cronjobs_lesson):
    response = check(client, {"mode": "file", "paste": json.dumps(cronjob())})
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert "Every required check passes" in content
    assert "00 02 * * * (every day at 02:00)" in content
    assert "What a production reviewer would say" in content and "without a fixed tag" in content
    run = LabRun.objects.get()
    assert (run.outcome, run.source, run.namespace) == ("pass", "file", "team-a")
    assert LessonProgress.objects.get(lesson=cronjobs_lesson).completed_via == "lab"


def test_failing_checks_show_expected_found_and_how_to_fix(client, cronjobs_lesson):
    content = check(client, {"mode": "file", "paste": json.dumps(cronjob(concurrencyPolicy="Allow"))}).content.decode()
    assert "Not there yet" in content
    assert "spec.concurrencyPolicy: Allow" in content and "How to fix it" in content
    assert f'href="{cronjobs_lesson.get_absolute_url()}#concurrencypolicy"' in content
    assert LabRun.objects.get().outcome == "fail"
    assert not LessonProgress.objects.filter(completed_at__isnull=False).exists()


def test_uploaded_file_is_checked(client, cronjobs_lesson):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("backup.json", json.dumps(cronjob()).encode())
    assert "Every required check passes" in check(client, {"mode": "file", "upload": upload}).content.decode()


def test_without_javascript_the_check_redirects_to_its_result(client, cronjobs_lesson):
    response = check(client, {"mode": "file", "paste": json.dumps(cronjob())}, htmx=False)
    run = LabRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("journeys:lab_run", args=[run.pk])
    assert "Every required check passes" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("paste", "message"),
    [
        ("key: [unclosed", "not valid YAML"),
        ("a: &x [1]\nb: *x", "aliases"),
        ("- just\n- a list", "is not a Kubernetes object"),
        ("", "Nothing was pasted"),
    ],
)
def test_garbage_pastes_get_400_and_an_error_run_never_a_fail(client, cronjobs_lesson, paste, message):
    response = check(client, {"mode": "file", "paste": paste})
    assert response.status_code == 400
    assert message in response.content.decode() and "We could not check your work." in response.content.decode()
    run = LabRun.objects.get()
    assert (run.outcome, run.error_code) == ("error", "bad-file")
    assert not LessonProgress.objects.filter(completed_at__isnull=False).exists()


def test_unknown_mode_and_unknown_lab(client, cronjobs_lesson):
    assert check(client, {"mode": "telepathy"}).status_code == 400
    assert check(client, {"mode": "file", "paste": "x"}, lab="no-such-lab").status_code == 404
    assert not LabRun.objects.exists()


def test_cluster_mode_needs_an_assigned_namespace(client, cronjobs_lesson, settings, kubeconfig):
    settings.SANDBOX_KUBECONFIG = str(kubeconfig)
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 400 and "assigned namespace" in response.content.decode()
    assert not LabRun.objects.exists()


def test_rate_limit_answers_429_with_when_to_retry(client, cronjobs_lesson, settings, monkeypatch):
    import journeys.ratelimit

    # Mid-minute, so the fixed window cannot roll over between the requests.
    monkeypatch.setattr(journeys.ratelimit, "clock", lambda: 1_800_000_030.0)
    settings.SANDBOX_RUNS_PER_MINUTE = 2
    for _ in range(2):
        assert check(client, {"mode": "file", "paste": json.dumps(cronjob())}).status_code == 200
    response = check(client, {"mode": "file", "paste": json.dumps(cronjob())})
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 31
    assert f"check again in {response['Retry-After']} seconds" in response.content.decode()
    assert LabRun.objects.count() == 2


def test_lab_runs_of_other_learners_are_404(client, user, cronjobs_lesson):
    check(client, {"mode": "file", "paste": json.dumps(cronjob())})
    run = LabRun.objects.get()
    client.force_login(user)
    assert client.get(reverse("journeys:lab_run", args=[run.pk])).status_code == 404


# --- Against the cluster, through the emulation ---


@pytest.fixture
def cluster_learner(client, user, cronjobs_lesson, settings, kube_emulator, kubeconfig):
    settings.SANDBOX_KUBECONFIG = str(kubeconfig)
    settings.SANDBOX_CONTEXT = "sandbox"
    settings.SANDBOX_NAMESPACE_TEMPLATE = "learn-{username}"
    settings.SANDBOX_READ_TIMEOUT = 0.5
    namespace = f"learn-{user.username}"
    kube_emulator.add_namespace(namespace)
    kube_emulator.add(cronjob(namespace=namespace))
    client.force_login(user)
    return client, namespace


def test_check_my_work_reads_the_learners_namespace(cluster_learner, kube_emulator):
    client, namespace = cluster_learner
    page = client.get(
        reverse("journeys:lesson", args=[factories.Journey.objects.get().slug, "cronjobs"])
    ).content.decode()
    assert f"<code>{namespace}</code>" in page and 'value="cluster"' in page
    kube_emulator.reset_requests()
    content = check(client, {"mode": "cluster"}).content.decode()
    assert "Every required check passes" in content and "read from the cluster" in content
    assert kube_emulator.request_count() == 3  # the namespace, CronJobs, and RoleBindings for the advice
    run = LabRun.objects.get()
    assert (run.source, run.namespace, run.outcome) == ("api", namespace, "pass")


def test_an_admin_assignment_wins_over_the_template(cluster_learner, kube_emulator, user):
    client, _ = cluster_learner
    SandboxAssignment.objects.create(user=user, namespace="team-red")
    kube_emulator.add_namespace("team-red")
    check(client, {"mode": "cluster"})
    assert LabRun.objects.get().namespace == "team-red"


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ((r"/cronjobs", 403), "not allowed to list cronjobs"),
        ((r"/namespaces/learn-[^/]+$", 404), "does not exist in the cluster"),
        ((r"/cronjobs", 500), "answered with an error (500"),
    ],
)
def test_cluster_errors_are_stored_as_error_runs_not_failures(cluster_learner, kube_emulator, fault, message):
    client, _ = cluster_learner
    kube_emulator.fail(*fault)
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 200
    assert message in response.content.decode()
    run = LabRun.objects.get()
    assert run.outcome == "error" and message in run.error_message


def test_a_timeout_is_an_error_run(cluster_learner, kube_emulator, caplog):
    client, _ = cluster_learner
    kube_emulator.delay(r"/cronjobs", 2)
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 200 and "did not answer in time" in response.content.decode()
    assert LabRun.objects.get().error_code == "timeout"
    assert any("could not read objects (timeout)" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("runs", [1, 5])
def test_lesson_page_with_a_lab_has_constant_queries(client, user, cronjobs_lesson, django_assert_num_queries, runs):
    client.force_login(user)
    for _ in range(runs):
        check(client, {"mode": "file", "paste": json.dumps(cronjob())})
    # The count stays the same however many runs the learner has; with no cluster configured
    # the page does not look up a namespace.
    with django_assert_num_queries(9):
        assert client.get(cronjobs_lesson.get_absolute_url()).status_code == 200
