"""Two gunicorn processes on one PostgreSQL and one Redis behave as one portal: a login made on one
is valid on the other, and the lab-check rate limit counts across both."""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from tests import factories

REDIS_URL = "redis://127.0.0.1:6379/15"
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_available():
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"SELECT 15\r\nFLUSHDB\r\n")
            return b"+OK" in sock.recv(100)
    except OSError:
        return False


def start_portal(tmp_path, *, processes, workers, redis):
    """``processes`` gunicorn processes of ``workers`` workers on the test database; yields their URLs."""
    if connection.vendor != "postgresql":
        pytest.skip("the processes share one PostgreSQL; this suite runs it in the PostgreSQL pass")
    if redis and not redis_available():
        pytest.skip("no Redis on 127.0.0.1:6379")
    database = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "replica-test-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": REDIS_URL if redis else "",
        "CACHE_DIR": str(tmp_path / "cache"),
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SANDBOX_RUNS_PER_MINUTE": "3",
        "STATIC_ROOT": str(tmp_path / "static"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "LOG_LEVEL": "WARNING",
    }
    (tmp_path / "metrics").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], env=env, cwd=settings.BASE_DIR, check=True
    )
    started, urls = [], []
    for number in range(processes):
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(workers), "--config", "python:portal.gunicorn_config"]
        # gunicorn's own log (worker timeouts, crashes) stays readable by the tests: gunicorn-N.log.
        with open(tmp_path / f"gunicorn-{number}.log", "wb") as log:
            started.append(subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stderr=log))
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    yield urls
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def replicas(tmp_path):
    yield from start_portal(tmp_path, processes=2, workers=1, redis=True)


@pytest.fixture
def two_workers_without_redis(tmp_path):
    yield from start_portal(tmp_path, processes=1, workers=2, redis=False)


class Browser:
    """One browser (one cookie jar) talking to whichever replica it is pointed at."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, url):
        return self._open(urllib.request.Request(url))

    def post(self, url, data, page):
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url, "HX-Request": "true"})
        return self._open(request)

    def _open(self, request):
        try:
            with self.opener.open(request, timeout=15) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_login_and_rate_limit_hold_across_two_replicas(replicas, settings):
    first, second = replicas
    # The replicas use the production hashers, not the fast one the test settings choose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = factories.UserFactory(username="replica-learner")
    lesson = factories.LessonFactory(slug="cronjobs", title="CronJobs")
    browser = Browser()

    _, page, _ = browser.get(f"{first}/account/login/")
    status, _, headers = browser.post(
        f"{first}/account/login/", {"username": user.username, "password": "correct-horse-battery"}, page
    )
    assert status == 302, "login on the first replica"
    status, dashboard, _ = browser.get(f"{second}/dashboard/")
    assert status == 200 and "replica-learner" in dashboard, "the second replica knows the session"

    # Static files: hashed names, compressed copies, cached for a long time.
    stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', dashboard).group(1)
    request = urllib.request.Request(f"{first}{stylesheet}", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert (
            "immutable" in response.headers["Cache-Control"]
            and "max-age=315360000" in response.headers["Cache-Control"]
        )

    # The limit counts per clock minute: start well inside one so the window cannot roll over mid-test.
    while time.time() % 60 > 45:
        time.sleep(0.5)
    statuses = []
    for index in range(4):
        replica = replicas[index % 2]
        _, page, _ = browser.get(f"{replica}{lesson.get_absolute_url()}")
        status, _, headers = browser.post(
            f"{replica}/labs/nightly-backup/check/", {"mode": "file", "paste": "kind: List\nitems: []\n"}, page
        )
        statuses.append(status)
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429 and int(headers["Retry-After"]) >= 1


DONE = "You have completed this lesson."


def signed_in_browser(base, user):
    browser = Browser()
    _, page, _ = browser.get(f"{base}/account/login/")
    status, _, _ = browser.post(
        f"{base}/account/login/", {"username": user.username, "password": "correct-horse-battery"}, page
    )
    assert status == 302
    return browser


def complete_on_every_server_then_read(servers, settings, reads_per_server):
    """Every server (and worker) stores the lesson page, the lesson is completed through the first
    server: every read after that shows it. Reads go four at a time, so every worker serves some."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = factories.UserFactory()
    lesson = factories.LessonFactory()
    browser = signed_in_browser(servers[0], user)
    urls = [f"{base}{lesson.get_absolute_url()}" for _ in range(reads_per_server) for base in servers]
    with ThreadPoolExecutor(max_workers=4) as pool:
        before = list(pool.map(browser.get, urls))
        assert all(status == 200 and DONE not in page for status, page, _ in before)
        status, _, _ = browser.post(f"{servers[0]}/lessons/{lesson.pk}/complete/", {}, before[0][1])
        assert status == 200
        return [DONE in page for _, page, _ in pool.map(browser.get, urls)]


def test_progress_shows_on_every_replica_at_once(replicas, settings):
    assert all(complete_on_every_server_then_read(replicas, settings, reads_per_server=3))


def test_the_workers_of_one_replica_share_stored_pages_without_redis(two_workers_without_redis, settings):
    """Without Redis the workers share a cache in files: a page one worker stored is retired for both."""
    shown = complete_on_every_server_then_read(two_workers_without_redis, settings, reads_per_server=16)
    assert shown == [True] * 16
