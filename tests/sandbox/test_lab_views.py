"""The lab panel: checking pasted output or the learner's namespace, refusals, rate limits and privacy."""

import html
import json
import logging
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.test import Client, RequestFactory
from django.urls import reverse

import journeys.ratelimit
from journeys.client_address import client_address, limit_key
from journeys.models import LabRun, LessonProgress, SandboxAssignment
from journeys.sandbox import views as lab_views
from journeys.sandbox.sources import MAX_PASTE_BYTES
from portal import metrics
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


GOOD = json.dumps(cronjob())
GARBAGE = "key: [unclosed"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def frozen_clock(monkeypatch):
    # Mid-minute, so the fixed window cannot roll over between the requests.
    monkeypatch.setattr(journeys.ratelimit, "clock", lambda: 1_800_000_030.0)


@pytest.fixture
def cronjobs_lesson():
    module = factories.ModuleFactory()
    return factories.LessonFactory(module=module, slug="cronjobs", title="CronJobs")


def check(client, data, *, htmx=True, lab="nightly-backup", **extra):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("journeys:lab_check", args=[lab]), data, headers=headers, **extra)


def textarea(content):
    """What the paste box of a rendered page holds (as the browser will read it)."""
    found = re.search(r'<textarea id="lab-paste-[^"]*"[^>]*>\n?(.*?)</textarea>', content, re.S)
    assert found, "no paste box on the page"
    return html.unescape(found.group(1))


def test_lesson_page_shows_the_lab_panel(client, cronjobs_lesson):
    page = client.get(cronjobs_lesson.get_absolute_url()).content.decode()
    assert 'id="lab-nightly-backup"' in page and "Lab: A nightly CronJob" in page
    assert "Schedule a (pretend) backup every night" in page and 'data-check="concurrency-policy"' in page
    solution = page[page.index("Show a reference solution") :]
    assert 'class="highlight"' in solution and "CronJob" in solution
    assert 'name="paste"' in page and 'type="file"' in page
    assert textarea(page) == ""


def test_pasted_output_is_checked_and_a_pass_completes_the_lesson(client, cronjobs_lesson):
    response = check(client, {"mode": "file", "paste": GOOD})
    content = response.content.decode()
    assert response.status_code == 200 and "<html" not in content
    assert "Every required check passes" in content
    assert "00 02 * * * (every day at 02:00)" in content
    assert "What a production reviewer would say" in content
    # The advice names the object and the container once, then says what to change about the learner's own image.
    assert content.count("CronJob <code>backup</code>") == 1 and content.count("Container <code>b</code>") == 1
    assert "pin a version, such as <code>busybox:1.36</code>" in content and "nginx" not in content
    stored = client.get(reverse("journeys:lab_run", args=[LabRun.objects.get().pk])).content.decode()
    assert stored.count("CronJob <code>backup</code>") == 1 and stored.count("Container <code>b</code>") == 1
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
    upload = SimpleUploadedFile("backup.json", GOOD.encode())
    assert "Every required check passes" in check(client, {"mode": "file", "upload": upload}).content.decode()


def test_with_htmx_the_browser_keeps_the_paste_and_it_is_not_sent_back(client, cronjobs_lesson):
    content = check(client, {"mode": "file", "paste": GOOD}).content.decode()
    assert re.search(r"<textarea [^>]*hx-preserve", content)
    assert textarea(content) == "" and "busybox" not in content.split("<textarea")[1]


def test_without_javascript_the_result_page_keeps_the_paste(client, cronjobs_lesson):
    paste = "\n" + json.dumps(cronjob(concurrencyPolicy="Allow"), indent=2).replace("\n", "\r\n")
    response = check(client, {"mode": "file", "paste": paste}, htmx=False)
    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content and 'aria-label="Breadcrumb"' in content
    assert "Not there yet" in content
    # As the learner pasted it (the browser's CR LF line ends are the only change), leading newline kept.
    assert textarea(content) == paste.replace("\r\n", "\n")
    run = LabRun.objects.get()
    # The run stays reachable from the history, as its own page.
    assert "Not there yet" in client.get(reverse("journeys:lab_run", args=[run.pk])).content.decode()


# --- Refused pastes record nothing ---


@pytest.mark.parametrize(
    ("paste", "message"),
    [
        (GARBAGE, "not valid YAML"),
        ("a: &x [1]\nb: *x", "anchors"),
        ("- just\n- a list", "not a Kubernetes object"),
        ("", "Nothing was pasted"),
    ],
)
def test_garbage_pastes_get_400_in_the_panel_and_record_nothing(client, cronjobs_lesson, paste, message):
    response = check(client, {"mode": "file", "paste": paste})
    content = response.content.decode()
    assert response.status_code == 400 and "<html" not in content and 'id="lab-nightly-backup"' in content
    assert message in content and "We could not check your work." in content
    assert not LabRun.objects.exists()
    assert not LessonProgress.objects.exists()


def test_without_javascript_a_refused_paste_is_the_lab_page_with_the_paste_kept(client, cronjobs_lesson):
    paste = "kind: CronJob\nmetadata: {name: <backup>\n"
    response = check(client, {"mode": "file", "paste": paste}, htmx=False)
    content = response.content.decode()
    assert response.status_code == 400
    assert "<html" in content and 'aria-label="Breadcrumb"' in content and "CronJobs" in content
    assert "We could not check your work." in content and "not valid YAML" in content
    assert textarea(content) == paste and "&lt;backup&gt;" in content
    assert not LabRun.objects.exists()


def test_a_first_visitor_whose_paste_is_refused_gets_no_session(client, cronjobs_lesson, settings):
    response = check(client, {"mode": "file", "paste": GARBAGE})
    assert response.status_code == 400
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    response = check(client, {"mode": "file", "paste": GOOD})
    assert response.status_code == 200 and settings.SESSION_COOKIE_NAME in response.cookies


def test_a_paste_over_the_limit_is_413_and_not_sent_back(client, cronjobs_lesson):
    paste = "# " + "x" * MAX_PASTE_BYTES
    for htmx in (True, False):
        response = check(client, {"mode": "file", "paste": paste}, htmx=htmx)
        content = response.content.decode()
        assert response.status_code == 413, content[:400]
        assert "larger than 1 MiB" in content and textarea(content) == ""
    assert not LabRun.objects.exists()


def test_an_upload_over_the_limit_is_413_and_its_reading_stops_at_the_limit(client, cronjobs_lesson):
    upload = SimpleUploadedFile("big.yaml", b"# " + b"x" * (MAX_PASTE_BYTES + 20_000))
    response = check(client, {"mode": "file", "upload": upload})
    assert response.status_code == 413 and "larger than 1 MiB" in response.content.decode()
    assert not LabRun.objects.exists()

    handler = lab_views._UploadLimit()
    handler.receive_data_chunk(b"x" * MAX_PASTE_BYTES, 0)
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"x", MAX_PASTE_BYTES)
    assert handler.exceeded


# --- The size of a request, before anything reads it ---


def big_body(size):
    # Not even well-formed multipart: were it parsed, the answer would be a 400 about the form.
    return b"--nothing\r\n" + b"x" * size


@pytest.mark.parametrize("htmx", [True, False])
def test_a_body_over_the_limit_is_refused_unread_with_413_in_the_panel(client, cronjobs_lesson, htmx):
    response = client.post(
        reverse("journeys:lab_check", args=["nightly-backup"]),
        data=big_body(lab_views.MAX_REQUEST_BYTES + 1),
        content_type="multipart/form-data; boundary=nothing",
        headers={"HX-Request": "true"} if htmx else {},
    )
    content = response.content.decode()
    assert response.status_code == 413
    assert "The file is larger than 1 MiB." in content and "kubectl get cronjob -o yaml" in content
    assert ("<html" in content) is not htmx and 'id="lab-nightly-backup"' in content


def test_a_paste_larger_than_djangos_memory_limit_gets_the_panel_not_a_bare_400(client, cronjobs_lesson, settings):
    paste = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = check(client, {"mode": "file", "paste": paste})
    assert response.status_code == 413 and "The file is larger than 1 MiB." in response.content.decode()


def csrf_client(lesson):
    """A browser-like client: the CSRF check enforced, the token read from the lesson page's form."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(lesson.get_absolute_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    return browser, token


def test_without_javascript_the_token_in_the_form_body_is_checked(cronjobs_lesson):
    browser, token = csrf_client(cronjobs_lesson)
    response = check(browser, {"csrfmiddlewaretoken": token, "mode": "file", "paste": GOOD}, htmx=False)
    assert response.status_code == 200 and "Every required check passes" in response.content.decode()
    refused = check(browser, {"mode": "file", "paste": GOOD}, htmx=False)
    assert refused.status_code == 403 and "This page was out of date" in refused.content.decode()
    assert LabRun.objects.count() == 1


def test_htmx_sends_the_token_in_a_header(cronjobs_lesson):
    browser, token = csrf_client(cronjobs_lesson)
    response = check(browser, {"mode": "file", "paste": GOOD}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200


def test_a_large_body_is_refused_before_the_csrf_check_reads_it(cronjobs_lesson):
    browser, _token = csrf_client(cronjobs_lesson)
    response = browser.post(
        reverse("journeys:lab_check", args=["nightly-backup"]),
        data=big_body(lab_views.MAX_REQUEST_BYTES + 1),
        content_type="multipart/form-data; boundary=nothing",
    )
    assert response.status_code == 413


# --- A page that is out of date (CSRF failure) ---


def test_an_htmx_form_from_an_out_of_date_page_gets_a_reload_alert_before_it(cronjobs_lesson):
    browser = Client(enforce_csrf_checks=True)
    page_url = "http://testserver" + cronjobs_lesson.get_absolute_url()
    response = check(browser, {"mode": "file", "paste": GOOD}, HTTP_HX_CURRENT_URL=page_url)
    content = response.content.decode()
    assert response.status_code == 403
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("this", "beforebegin")
    assert "<html" not in content and 'role="alert"' in content
    assert "This page is out of date" in content
    assert f'<a href="{cronjobs_lesson.get_absolute_url()}">Reload the page</a>' in content
    assert not LabRun.objects.exists()


def test_the_reload_link_never_leads_to_another_site(cronjobs_lesson):
    browser = Client(enforce_csrf_checks=True)
    response = check(browser, {"mode": "file"}, HTTP_HX_CURRENT_URL="https://evil.example/phish")
    assert "evil.example" not in response.content.decode() and 'href=""' in response.content.decode()
    response = check(browser, {"mode": "file"}, htmx=False, HTTP_REFERER="https://evil.example/phish")
    assert "evil.example" not in response.content.decode()


def test_a_quiz_form_from_an_out_of_date_page_gets_the_same_alert(cronjobs_lesson):
    quiz = factories.QuizFactory(lesson=cronjobs_lesson)
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {}, headers={"HX-Request": "true"})
    assert response.status_code == 403 and response["HX-Reswap"] == "beforebegin"
    assert "This page is out of date" in response.content.decode()


def test_without_htmx_an_out_of_date_page_gets_a_friendly_page(cronjobs_lesson):
    browser = Client(enforce_csrf_checks=True)
    lesson_url = cronjobs_lesson.get_absolute_url()
    response = check(browser, {"mode": "file", "paste": GOOD}, htmx=False, HTTP_REFERER=lesson_url)
    content = response.content.decode()
    assert response.status_code == 403 and "<html" in content and "HX-Retarget" not in response
    assert "This page was out of date" in content and "Nothing was saved" in content
    assert f'href="{lesson_url}"' in content


def test_unknown_mode_and_unknown_lab(client, cronjobs_lesson):
    assert check(client, {"mode": "telepathy"}).status_code == 400
    assert check(client, {"mode": "file", "paste": "x"}, lab="no-such-lab").status_code == 404
    assert not LabRun.objects.exists()


def test_cluster_mode_needs_an_assigned_namespace(client, cronjobs_lesson, settings, kubeconfig):
    settings.SANDBOX_KUBECONFIG = str(kubeconfig)
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 400 and "assigned namespace" in response.content.decode()
    assert not LabRun.objects.exists()


# --- Rate limits ---


def test_rate_limit_answers_429_with_when_to_retry(client, cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_RUNS_PER_MINUTE = 2
    for _ in range(2):
        assert check(client, {"mode": "file", "paste": GOOD}).status_code == 200
    response = check(client, {"mode": "file", "paste": GOOD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 31
    content = response.content.decode()
    assert f"check again in {response['Retry-After']} seconds" in content and 'id="lab-nightly-backup"' in content
    assert LabRun.objects.count() == 2


def test_without_javascript_a_rate_limit_keeps_the_paste(client, cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_RUNS_PER_MINUTE = 1
    check(client, {"mode": "file", "paste": GOOD}, htmx=False)
    response = check(client, {"mode": "file", "paste": GOOD}, htmx=False)
    assert response.status_code == 429 and "Retry-After" in response
    assert "<html" in response.content.decode() and textarea(response.content.decode()) == GOOD


def test_refused_pastes_do_not_use_up_the_learners_checks(client, cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_RUNS_PER_MINUTE = 2
    for _ in range(5):
        assert check(client, {"mode": "file", "paste": GARBAGE}).status_code == 400
    assert check(client, {"mode": "file", "paste": GOOD}).status_code == 200
    assert check(client, {"mode": "file", "paste": GARBAGE}).status_code == 400
    assert check(client, {"mode": "file", "paste": GOOD}).status_code == 200
    assert check(client, {"mode": "file", "paste": GOOD}).status_code == 429
    assert LabRun.objects.count() == 2


def test_requests_without_cookies_are_limited_by_their_address(cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_RUNS_PER_MINUTE = 100
    settings.SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS = 3
    # Each request from a fresh client: no cookies, so a new anonymous learner every time.
    for _ in range(3):
        assert check(Client(), {"mode": "file", "paste": GOOD}).status_code == 200
    response = check(Client(), {"mode": "file", "paste": GOOD})
    assert response.status_code == 429 and int(response["Retry-After"]) == 31
    assert "from your network" in response.content.decode()
    assert LabRun.objects.count() == 3
    # Another address is not held back.
    assert check(Client(REMOTE_ADDR="192.0.2.7"), {"mode": "file", "paste": GOOD}).status_code == 200


def test_refused_and_oversized_pastes_count_against_the_address(client, cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS = 3
    assert check(client, {"mode": "file", "paste": GARBAGE}).status_code == 400
    assert check(client, {"mode": "file", "paste": "# " + "x" * MAX_PASTE_BYTES}).status_code == 413
    oversized = client.post(
        reverse("journeys:lab_check", args=["nightly-backup"]),
        data=big_body(lab_views.MAX_REQUEST_BYTES + 1),
        content_type="multipart/form-data; boundary=nothing",
    )
    assert oversized.status_code == 413
    assert check(client, {"mode": "file", "paste": GOOD}).status_code == 429
    assert not LabRun.objects.exists()


def send_from(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return check(Client(), {"mode": "file", "paste": GOOD}, **extra).status_code


def test_x_forwarded_for_is_ignored_unless_a_proxy_is_trusted(cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS = 1
    assert settings.TRUSTED_PROXY_HOPS == 0
    assert send_from("10.0.0.1", "198.51.100.1") == 200
    assert send_from("10.0.0.1", "198.51.100.2") == 429


def test_with_a_trusted_proxy_the_address_it_saw_is_used(cronjobs_lesson, settings, frozen_clock):
    settings.SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS = 1
    settings.TRUSTED_PROXY_HOPS = 1
    # The Ingress controller (10.0.0.1) appends the client's address; what the client wrote stays left of it.
    assert send_from("10.0.0.1", "6.6.6.6, 198.51.100.1") == 200
    assert send_from("10.0.0.1", "6.6.6.6, 198.51.100.2") == 200
    assert send_from("10.0.0.1", "7.7.7.7, 198.51.100.1") == 429


@pytest.mark.parametrize(
    ("hops", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.1"),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (1, " 6.6.6.6 ,198.51.100.1 ", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (1, "2001:db8::1", "2001:db8::1"),
        (1, None, "10.0.0.1"),
        (1, "", "10.0.0.1"),
        (1, "6.6.6.6, not-an-address", "10.0.0.1"),
        (1, "198.51.100.1:4711", "10.0.0.1"),
        (2, "198.51.100.1", "10.0.0.1"),
        (2, "garbage, 198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (2, "198.51.100.1, , 203.0.113.9", "10.0.0.1"),
    ],
)
def test_client_address(settings, hops, forwarded, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    extra = {"REMOTE_ADDR": "10.0.0.1"} | ({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {})
    assert client_address(RequestFactory().get("/", **extra)) == expected


def test_an_ipv6_client_counts_as_its_whole_64():
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("::ffff:198.51.100.1") == limit_key("198.51.100.1") == "198.51.100.1"


class BrokenCache:
    """A cache whose server is gone: every call fails the way a network client does."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache server unreachable")

        return fail


def test_a_cache_outage_lets_the_check_through_and_is_logged(client, cronjobs_lesson, settings, monkeypatch, caplog):
    monkeypatch.setattr(journeys.ratelimit, "cache", BrokenCache())
    monkeypatch.setitem(journeys.ratelimit._outage, "logged_at", None)
    settings.SANDBOX_RUNS_PER_MINUTE = 1
    settings.SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS = 1
    with caplog.at_level(logging.WARNING, logger="journeys.ratelimit"):
        for paste in (GOOD, GOOD, GARBAGE):
            assert check(client, {"mode": "file", "paste": paste}).status_code in (200, 400)
    assert LabRun.objects.count() == 2
    # Logged once for the outage, not once for each of the six attempts the three checks made.
    (record,) = [record for record in caplog.records if "the cache is unavailable" in record.getMessage()]
    assert "1 attempts allowed uncounted" in record.getMessage()


def test_lab_runs_of_other_learners_are_404(client, user, cronjobs_lesson):
    check(client, {"mode": "file", "paste": GOOD})
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


def error_runs_counted(source):
    return metrics.LAB_RUNS.labels(outcome="error", source=source)._value.get()


@pytest.mark.parametrize(
    ("fault", "message", "code"),
    [
        ((r"/cronjobs", 403), "not allowed to list cronjobs", "forbidden"),
        ((r"/namespaces/learn-[^/]+$", 404), "does not exist in the cluster", "namespace-not-found"),
        ((r"/cronjobs", 500), "answered with an error (500", "server-error"),
    ],
)
def test_cluster_errors_answer_424_in_the_panel_and_record_nothing(
    cluster_learner, kube_emulator, caplog, fault, message, code
):
    client, _ = cluster_learner
    kube_emulator.fail(*fault)
    counted = error_runs_counted("api")
    with caplog.at_level(logging.WARNING, logger="journeys.sandbox.services"):
        response = check(client, {"mode": "cluster"})
    content = response.content.decode()
    assert response.status_code == 424 and 'id="lab-nightly-backup"' in content and "<html" not in content
    assert "We could not check your work." in content and message in content
    assert not LabRun.objects.exists() and not LessonProgress.objects.exists()
    assert any(f"could not read objects ({code})" in record.getMessage() for record in caplog.records)
    assert error_runs_counted("api") == counted + 1


def test_a_timeout_answers_424_and_is_logged(cluster_learner, kube_emulator, caplog):
    client, _ = cluster_learner
    kube_emulator.delay(r"/cronjobs", 2)
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 424 and "did not answer in time" in response.content.decode()
    assert not LabRun.objects.exists()
    assert any("could not read objects (timeout)" in record.getMessage() for record in caplog.records)


def test_every_cluster_attempt_counts_even_when_it_fails(cluster_learner, kube_emulator, settings, frozen_clock):
    client, _ = cluster_learner
    settings.SANDBOX_RUNS_PER_MINUTE = 2
    kube_emulator.fail(r"/cronjobs", 500)
    assert [check(client, {"mode": "cluster"}).status_code for _ in range(2)] == [424, 424]
    kube_emulator.reset_requests()
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 429 and "Retry-After" in response
    assert kube_emulator.request_count() == 0


@pytest.mark.parametrize("runs", [1, 5])
def test_lesson_page_with_a_lab_has_constant_queries(client, user, cronjobs_lesson, django_assert_num_queries, runs):
    client.force_login(user)
    for _ in range(runs):
        check(client, {"mode": "file", "paste": GOOD})
    # The count stays the same however many runs the learner has; with no cluster configured
    # the page does not look up a namespace.
    with django_assert_num_queries(9):
        assert client.get(cronjobs_lesson.get_absolute_url()).status_code == 200


# --- One lab check at a time per worker process ---


@pytest.fixture
def busy_worker(settings):
    """Another thread of this process is running a lab check."""
    from journeys.sandbox import gate

    settings.SANDBOX_CHECK_WAIT = 0.05
    assert gate._slots.acquire(timeout=1)
    held = [True]

    def finish():
        if held.pop() if held else False:
            gate._slots.release()

    yield finish
    finish()


def test_a_paste_that_finds_the_worker_busy_is_503_with_retry_after_and_not_counted(
    client, cronjobs_lesson, settings, frozen_clock, busy_worker
):
    settings.SANDBOX_RUNS_PER_MINUTE = 1
    response = check(client, {"mode": "file", "paste": GOOD}, htmx=False)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    content = response.content.decode()
    assert "Many lab checks are running right now" in content and textarea(content) == GOOD
    assert not LabRun.objects.exists()
    busy_worker()
    assert check(client, {"mode": "file", "paste": GOOD}).status_code == 200  # the one check was still unused


def test_the_slot_is_given_back_after_each_check_even_a_refused_one(client, cronjobs_lesson):
    from journeys.sandbox import gate

    assert check(client, {"mode": "file", "paste": GARBAGE}).status_code == 400
    assert check(client, {"mode": "file", "paste": GOOD}).status_code == 200
    assert gate._slots.acquire(timeout=0)
    gate._slots.release()


def test_a_cluster_check_that_finds_the_worker_busy_is_503_and_reads_nothing(
    cluster_learner, kube_emulator, busy_worker
):
    client, _ = cluster_learner
    kube_emulator.reset_requests()
    response = check(client, {"mode": "cluster"})
    assert response.status_code == 503 and "Many lab checks are running right now" in response.content.decode()
    assert kube_emulator.request_count() == 0 and not LabRun.objects.exists()
