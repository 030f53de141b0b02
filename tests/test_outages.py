"""Outages: a cache (Redis) that is stopped or hung slows the site down but never fails a page; a
database that cannot be reached answers 503 with Retry-After, and the site recovers on its own.

Redis here is a private server on a spare port, started and stopped by these tests; the shared
one is never touched.
"""

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.urls import reverse
from prometheus_client import REGISTRY

from journeys.models import LabRun, QuizAttempt
from journeys.pages import content_version as content_cache
from journeys.pages import shared_page as page_cache
from portal import resilience
from tests import factories
from tests.servers import PrivateRedis, free_port

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')
GOOD_CRONJOB = json.dumps(
    {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": "team-a"},
        "spec": {
            "schedule": "00 02 * * *",
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "b", "image": "busybox"}]}
                    }
                }
            },
        },
    }
)
TIMEOUT = 0.2  # the socket timeouts the tests configure


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def breaker_clock(monkeypatch):
    """The breaker's clock, moved by hand: ``breaker_clock[0] += 10`` is ten seconds later."""
    now = [1000.0]
    monkeypatch.setattr(resilience, "clock", lambda: now[0])
    resilience.breaker.reset()
    yield now
    resilience.breaker.reset()


def _forget_local_copies():
    content_cache.forget_local()
    page_cache._local_pages.clear()


@pytest.fixture
def redis_settings(settings, private_redis, breaker_clock):
    """Production's cache and sessions, on the private Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.resilience.ResilientRedisCache",
            "LOCATION": private_redis.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": TIMEOUT, "SOCKET_TIMEOUT": TIMEOUT},
            "KEY_PREFIX": "kj-test",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.CACHE_RETRY_SECONDS = 5
    _forget_local_copies()
    yield private_redis
    private_redis.thaw()
    resilience.breaker.reset()
    _forget_local_copies()


def cache_errors(outcome="failed"):
    total = 0.0
    for family in REGISTRY.collect():
        if family.name == "kube_journeys_cache_errors":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels.get("outcome") == outcome:
                    total += sample.value
    return total


@pytest.fixture
def site(db):
    """A lesson with a quiz, the lab lesson, and a signed-in learner who has read both."""
    quiz, _questions, answers = factories.quiz_with_every_kind()
    module = factories.ModuleFactory()
    lab_lesson = factories.LessonFactory(module=module, slug="cronjobs", title="CronJobs")
    user = factories.UserFactory()
    learner = Client()
    learner.force_login(user)
    return {"quiz": quiz, "answers": answers, "lab_lesson": lab_lesson, "learner": learner}


def every_page(site):
    """The requests a learner makes, each with the statuses that mean "it worked"."""
    quiz, learner = site["quiz"], site["learner"]
    lesson_url = quiz.lesson.get_absolute_url()
    results = {}
    results["anonymous lesson"] = Client().get(lesson_url).status_code
    page = learner.get(lesson_url)
    results["signed-in lesson"] = page.status_code
    results["dashboard"] = learner.get(reverse("journeys:dashboard")).status_code
    token = TOKEN.search(page.content.decode()).group(1)
    submitted = learner.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**site["answers"], "token": token})
    results["quiz submission"] = submitted.status_code
    checked = learner.post(
        reverse("journeys:lab_check", args=["nightly-backup"]),
        {"mode": "file", "paste": GOOD_CRONJOB},
        headers={"HX-Request": "true"},
    )
    results["lab check"] = checked.status_code
    assert "Every required check passes" in checked.content.decode()
    return results


def assert_all_worked(results):
    assert results == {
        "anonymous lesson": 200,
        "signed-in lesson": 200,
        # 200, not a redirect to the login page: the session was read from the database.
        "dashboard": 200,
        "quiz submission": 302,
        "lab check": 200,
    }


# --- The cache ---


@pytest.mark.slow
def test_every_page_works_with_redis_up(redis_settings, site):
    assert_all_worked(every_page(site))
    assert resilience.breaker.available


@pytest.mark.slow
def test_with_redis_stopped_every_page_works_the_outage_is_logged_once_and_counted(redis_settings, site, caplog):
    site["learner"].get(reverse("journeys:dashboard"))  # the session is in Redis too now
    redis_settings.stop()
    failed_before = cache_errors("failed")
    with caplog.at_level(logging.INFO, logger="portal.resilience"):
        assert_all_worked(every_page(site))
        assert_all_worked(every_page(site))
    assert QuizAttempt.objects.count() == 2 and LabRun.objects.count() == 2  # nothing acknowledged is lost
    outage_lines = [r for r in caplog.records if "The cache is unavailable" in r.getMessage()]
    assert len(outage_lines) == 1 and "ConnectionInterrupted" in outage_lines[0].getMessage()
    assert cache_errors("failed") > failed_before
    assert cache_errors("skipped") > 0
    body = Client().get(reverse("metrics")).content.decode()
    assert 'kube_journeys_cache_errors_total{operation="get",outcome="failed"}' in body


@pytest.mark.slow
def test_with_redis_hung_each_request_pays_one_short_timeout_at_most(redis_settings, site, breaker_clock):
    site["learner"].get(reverse("journeys:dashboard"))
    redis_settings.freeze()
    attempts = []
    real_failed = resilience.breaker.failed

    def counting_failed(operation, exc):
        attempts.append(operation)
        real_failed(operation, exc)

    resilience.breaker.failed = counting_failed
    try:
        started = time.monotonic()
        assert_all_worked(every_page(site))
        first_round = time.monotonic() - started
        # One timed-out call opened the breaker; every later call of every request skipped Redis.
        assert len(attempts) == 1
        breaker_clock[0] += 6  # the breaker lets one call through again
        started = time.monotonic()
        assert_all_worked(every_page(site))
        second_round = time.monotonic() - started
        assert len(attempts) == 2
    finally:
        resilience.breaker.failed = real_failed
    # Five requests each; without the breaker every cache call would wait out the timeout.
    assert first_round < 5 and second_round < 5, (first_round, second_round)


@pytest.mark.slow
def test_after_the_outage_the_cache_is_used_again_and_stored_pages_are_retired(
    redis_settings, site, breaker_clock, caplog
):
    learner, quiz = site["learner"], site["quiz"]
    learner.get(quiz.lesson.get_absolute_url())
    version_before = content_cache.content_version()
    redis_settings.freeze()
    assert_all_worked(every_page(site))  # progress recorded while its version could not be written
    redis_settings.thaw()
    breaker_clock[0] += 6
    content_cache.forget_local()
    with caplog.at_level(logging.INFO, logger="portal.resilience"):
        assert learner.get(quiz.lesson.get_absolute_url()).status_code == 200
    assert any("answers again" in r.getMessage() for r in caplog.records)
    assert resilience.breaker.available
    # Pages stored before the outage show the learner's old progress: a new content version retires them.
    assert content_cache.content_version() != version_before


@pytest.mark.slow
def test_healthz_touches_neither_cache_nor_database_even_with_redis_hung(
    redis_settings, site, django_assert_num_queries
):
    learner = site["learner"]  # a session cookie: the session must not be read for a probe
    redis_settings.freeze()
    started = time.monotonic()
    with django_assert_num_queries(0):
        response = learner.get(reverse("healthz"))
    assert response.status_code == 200 and response.content == b"ok\n"
    assert time.monotonic() - started < TIMEOUT
    assert resilience.breaker.available  # no cache call was even tried


@pytest.mark.slow
def test_readyz_reports_the_cache_and_stays_ready_without_it(redis_settings, db):
    ready = Client().get(reverse("readyz"))
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok", "cache": "ok"}
    redis_settings.freeze()
    for _ in range(2):  # the second answer comes from the open breaker, without waiting
        ready = Client().get(reverse("readyz"))
        assert ready.status_code == 200 and ready.json()["cache"] == "unavailable"


def test_readyz_with_a_cache_in_files_reports_it_ok(client, db):
    assert client.get(reverse("readyz")).json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_a_failed_version_write_in_any_cache_does_not_fail_the_learners_write(monkeypatch, db, caplog):
    """learner_changed runs after the learner's records were written: a cache error must not undo that."""
    from django.core.cache import cache

    from journeys.pages import learner_page as learner_pages

    def broken_set(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(cache, "set", broken_set)
    resilience.breaker.reset()
    try:
        learner_pages.learner_changed("user:1")
        assert resilience.breaker.missed_invalidation
    finally:
        resilience.breaker.reset()


# --- The database ---


@pytest.fixture
def database_down(monkeypatch):
    """Every new query fails as it does when PostgreSQL cannot be reached."""

    def refuse(self, *args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(BaseDatabaseWrapper, "_cursor", refuse)
    yield
    monkeypatch.undo()


def assert_unavailable(response, *, page=True):
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    content = response.content.decode()
    assert "cannot reach its database" in content
    assert ("<html" in content) is page


def test_a_database_outage_answers_503_with_retry_after_for_pages_and_submissions(site, database_down, caplog):
    quiz, learner = site["quiz"], site["learner"]
    resilience._database_log.update(at=None, since_logged=0)
    _forget_local_copies()
    assert_unavailable(Client().get(quiz.lesson.get_absolute_url()))
    assert_unavailable(learner.get(quiz.lesson.get_absolute_url()))
    assert_unavailable(learner.get(reverse("journeys:dashboard")))
    assert_unavailable(learner.post(reverse("journeys:quiz_submit", args=[quiz.pk]), site["answers"]))
    lab = learner.post(reverse("journeys:lab_check", args=["nightly-backup"]), {"mode": "file", "paste": GOOD_CRONJOB})
    assert_unavailable(lab)
    assert "try again in 10 seconds" in lab.content.decode()
    # One line for the outage, not one per request.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == ["portal.resilience"], [r.getMessage() for r in errors]


def test_an_htmx_request_gets_a_short_fragment_with_503(site, database_down):
    response = site["learner"].post(
        reverse("journeys:quiz_submit", args=[site["quiz"].pk]), site["answers"], headers={"HX-Request": "true"}
    )
    assert_unavailable(response, page=False)


def test_the_site_recovers_by_itself_when_the_database_is_back(site, monkeypatch, database_down):
    url = site["quiz"].lesson.get_absolute_url()
    assert Client().get(url).status_code == 503
    monkeypatch.undo()
    assert Client().get(url).status_code == 200


def test_readyz_is_503_and_healthz_200_without_the_database(db, database_down):
    ready = Client().get(reverse("readyz"))
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"
    assert Client().get(reverse("healthz")).status_code == 200


def test_a_database_failure_in_a_middleware_also_answers_503(site, monkeypatch):
    """The session is saved after the view, by SessionMiddleware: Django has made that a 500 already."""
    from django.contrib.sessions.backends.db import SessionStore

    def refuse(self, must_create=False):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "save", refuse)
    anonymous = Client(raise_request_exception=False)
    # Completing a lesson as a visitor starts a session, which is saved on the way out.
    response = anonymous.post(
        reverse("journeys:lab_check", args=["nightly-backup"]), {"mode": "file", "paste": GOOD_CRONJOB}
    )
    assert_unavailable(response)


def test_an_existing_session_that_cannot_be_saved_in_an_outage_is_503_not_session_interrupted(site, monkeypatch):
    """Django turns a failed session update into "session interrupted" (400); in an outage it is a 503."""
    from django.contrib.sessions.models import Session

    learner, quiz = site["learner"], site["quiz"]
    page = learner.get(quiz.lesson.get_absolute_url())  # the session holds the learner's open form
    answers = {**site["answers"], "token": TOKEN.search(page.content.decode()).group(1)}

    def refuse(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Session, "save", refuse)
    # A submission renews the open form in the session, which is then saved on the way out.
    response = learner.post(reverse("journeys:quiz_submit", args=[quiz.pk]), answers)
    assert_unavailable(response)


def test_a_session_interrupted_by_a_sign_out_elsewhere_is_still_a_400(db):
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.exceptions import SessionInterrupted
    from django.contrib.sessions.models import Session
    from django.http import HttpResponse
    from django.test import RequestFactory

    from portal.resilience import OutageAwareSessionMiddleware

    existing = SessionStore()
    existing["seen"] = 1
    existing.create()
    request = RequestFactory().get("/")
    request.session = SessionStore(session_key=existing.session_key)
    request.session["seen"] = 2  # read, then changed, so it is saved on the way out
    Session.objects.filter(session_key=existing.session_key).delete()  # signed out in another tab
    middleware = OutageAwareSessionMiddleware(lambda request: HttpResponse("ok"))
    with pytest.raises(SessionInterrupted):
        middleware.process_response(request, HttpResponse("ok"))


def test_only_database_errors_answer_503():
    assert resilience.is_database_outage(OperationalError("down"))
    assert not resilience.is_database_outage(RuntimeError("a bug"))


# --- Production processes (gunicorn, PostgreSQL, the private Redis) ---


def start_gunicorn(tmp_path, env_changes):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the server shares the test database; this runs in the PostgreSQL pass")
    database = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "outage-test-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CACHE_DIR": str(tmp_path / "cache"),
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    } | env_changes
    (tmp_path / "metrics").mkdir(exist_ok=True)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        env=env,
        cwd=django_settings.BASE_DIR,
        check=True,
    )
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--config", "python:portal.gunicorn_config"]
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(command, env=env, cwd=django_settings.BASE_DIR, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.terminate()
                raise RuntimeError((tmp_path / "gunicorn.log").read_text()) from None
            time.sleep(0.2)
    return server, url, log


def fetch(url, *, data=None):
    """(status, headers, body, seconds) of one request."""
    started = time.monotonic()
    request = urllib.request.Request(url, data=data)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read().decode()
    return status, headers, body, time.monotonic() - started


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_lessons_with_redis_stopped_and_hung(tmp_path, private_redis):
    quiz, _questions, _answers = factories.quiz_with_every_kind()
    lesson = quiz.lesson.get_absolute_url()
    server, url, log = start_gunicorn(
        tmp_path,
        {"REDIS_URL": private_redis.url, "CACHE_SOCKET_TIMEOUT": "0.2", "CACHE_SOCKET_CONNECT_TIMEOUT": "0.2"},
    )
    try:
        assert fetch(url + lesson)[0] == 200
        private_redis.freeze()
        # Past the time a worker trusts its copy of the content version: the next request asks Redis.
        time.sleep(content_cache.VERSION_RECHECK_SECONDS + 0.1)
        timings = []
        for _ in range(5):
            status, _headers, _body, seconds = fetch(url + lesson)
            assert status == 200
            timings.append(seconds)
        status, _headers, body, seconds = fetch(url + "/healthz")
        assert status == 200 and seconds < 1
        status, _headers, body, _seconds = fetch(url + "/readyz")
        assert status == 200 and json.loads(body)["cache"] == "unavailable"
        # The first request waits out one timeout; the open breaker spares the next ones.
        assert timings[0] >= 0.2 and sum(timings) < 3, timings
        private_redis.stop()
        for _ in range(3):
            assert fetch(url + lesson)[0] == 200
        metrics_body = fetch(url + "/metrics")[2]
        assert re.search(
            r'kube_journeys_cache_errors_total\{operation="[a-z_]+",outcome="failed"\} [1-9]', metrics_body
        )
    finally:
        server.terminate()
        server.wait(10)
        log.close()
    logged = (tmp_path / "gunicorn.log").read_text()
    assert logged.count("The cache is unavailable") == 1, logged
    print("lesson with Redis hung, seconds per request:", [round(t, 3) for t in timings])


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_gunicorn_answers_503_with_retry_after_when_postgresql_is_unreachable(tmp_path):
    factories.quiz_with_every_kind()
    closed_port = free_port()
    server, url, log = start_gunicorn(
        tmp_path, {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port}/kube_journeys"}
    )
    try:
        for path in ("/", "/dashboard/"):
            status, headers, body, _seconds = fetch(url + path)
            assert status == 503 and headers["Retry-After"] == "10", (status, body[:300])
            assert "cannot reach its database" in body
        assert fetch(url + "/readyz")[0] == 503
        assert fetch(url + "/healthz")[0] == 200
    finally:
        server.terminate()
        server.wait(10)
        log.close()
