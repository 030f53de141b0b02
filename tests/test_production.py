"""Production settings, security headers, observability endpoints and logs."""

import json
import logging
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from portal.observability import JsonFormatter, RequestIdFilter
from tests import factories

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-test-key-" + "x" * 30,
    "ALLOWED_HOSTS": "learn.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}


def manage(*args, env):
    clean = {key: value for key, value in os.environ.items() if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_prints_no_warning_with_production_settings():
    result = manage("check", "--deploy", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


@pytest.mark.slow
def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SANDBOX_QUOTA", "SANDBOX_LIMITS"])
def test_refuses_to_start_with_a_sandbox_guard_that_is_not_json(name):
    result = manage("check", env={**PRODUCTION_ENV, name: "{'pods': 40}"})
    assert result.returncode == 1
    assert f"{name} must be JSON" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SANDBOX_TOKEN_SECONDS", "8h", "SANDBOX_TOKEN_SECONDS must be a whole number, such as 28800, not '8h'"),
        ("SANDBOX_READ_TIMEOUT", "soon", "SANDBOX_READ_TIMEOUT must be a number of seconds, such as 5"),
        ("SANDBOX_EXPIRE_DAYS", "99999999999", "SANDBOX_EXPIRE_DAYS may be at most 36500"),
    ],
)
def test_refuses_to_start_with_a_number_setting_that_is_not_one(name, value, says):
    result = manage("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode == 1
    assert says in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["abc", "1e3", "nan", "inf", "-inf", "1.5", "0x10"])
def test_a_whole_number_setting_refuses_what_is_not_one(monkeypatch, value):
    from portal.env import env_int

    monkeypatch.setenv("SOME_LIMIT", value)
    with pytest.raises(SystemExit) as stopped:
        env_int("SOME_LIMIT", 3)
    assert "SOME_LIMIT must be a whole number, such as 3" in str(stopped.value)


@pytest.mark.parametrize(("value", "expected"), [("", 3), ("  ", 3), (" 12 ", 12), ("-4", -4)])
def test_a_whole_number_setting_reads_what_is_one(monkeypatch, value, expected):
    from portal.env import env_int

    monkeypatch.setenv("SOME_LIMIT", value)
    assert env_int("SOME_LIMIT", 3) == expected


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "five"])
def test_a_seconds_setting_refuses_what_is_not_a_number(monkeypatch, value):
    from portal.env import env_float

    monkeypatch.setenv("SOME_WAIT", value)
    with pytest.raises(SystemExit):
        env_float("SOME_WAIT", 0.25)


def test_security_headers(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_inline_scripts_in_pages(client, curriculum):
    """The CSP forbids inline scripts, so no page may rely on one."""
    for url in [
        "/",
        "/journeys/intermediate-app-developer/",
        "/journeys/intermediate-app-developer/jobs/",
        "/glossary/",
    ]:
        html = client.get(url).content.decode()
        for script in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in script, f"inline script on {url}: {script}"
        assert not re.search(r"\son[a-z]+=", html), f"inline event handler on {url}"


def test_hsts_and_secure_cookies_with_production_values(client, db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    user = factories.UserFactory()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "correct-horse-battery"}, secure=True
    )
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_probes_are_exempt_from_https_redirect(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_readyz_is_503_when_the_database_is_unreachable(client, db, monkeypatch):
    from django.db import connection
    from django.db.utils import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/readyz")
    healthz = client.get("/healthz")
    monkeypatch.undo()
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
    assert healthz.status_code == 200


def test_metrics_in_prometheus_format(client, db):
    quiz, _, right = factories.quiz_with_every_kind()
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": token})
    body = client.get("/metrics").content.decode()
    assert "# TYPE kube_journeys_request_duration_seconds histogram" in body
    assert (
        'kube_journeys_request_duration_seconds_bucket{le="0.1",method="GET",status_class="2xx",view="journeys:lesson"}'
        in body
    )
    assert re.search(r'kube_journeys_quiz_submissions_total\{final="false",result="passed"\} [1-9]', body)
    assert "# TYPE kube_journeys_lab_runs_total counter" in body


def test_request_id_is_echoed_and_logged_as_json(client, db, caplog):
    with caplog.at_level(logging.INFO, logger="portal.access"):
        response = client.get("/glossary/", headers={"X-Request-ID": "trace-abc-12345"})
    assert response["X-Request-ID"] == "trace-abc-12345"
    [record] = [record for record in caplog.records if record.name == "portal.access"]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["path"] == "/glossary/" and line["status"] == 200 and line["view"] == "journeys:glossary"
    assert line["level"] == "INFO" and "time" in line and "duration_ms" in line


def test_a_forged_request_id_is_replaced(client, db):
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_metrics_are_not_served_through_a_proxy(client, db):
    assert client.get("/metrics").status_code == 200
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP", "Via"):
        assert client.get("/metrics", headers={header: "203.0.113.7"}).status_code == 404, header


def test_metrics_are_only_served_to_the_allowed_networks_or_the_token(client, db, settings):
    public = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", **public).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.42.0.9").status_code == 200
    settings.METRICS_ALLOWED_NETWORKS = "10.42.0.0/16"
    assert client.get("/metrics", REMOTE_ADDR="10.43.0.9").status_code == 404
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"}, **public).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}, **public).status_code == 404


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SANDBOX_QUOTA", [], "SANDBOX_QUOTA must be a JSON object of at least one resource"),
        ("SANDBOX_LIMITS", {"default": 5}, 'SANDBOX_LIMITS must give "default" an object'),
        ("SANDBOX_READ_TIMEOUT", 0, "SANDBOX_READ_TIMEOUT must be a number of seconds above 0"),
        ("SANDBOX_TOKEN_SECONDS", 60, "SANDBOX_TOKEN_SECONDS must be from 600"),
    ],
)
def test_a_settings_module_that_sets_what_provisioning_cannot_use_fails_the_check(settings, name, value, says):
    from django.core.checks import run_checks

    from journeys.sandbox.provisioning import provisioning_enabled

    settings.SANDBOX_PROVISIONING = True
    settings.SANDBOX_PROVISIONER_KUBECONFIG = "/some/kubeconfig"
    assert not [error for error in run_checks() if error.id == "journeys.E101"]
    setattr(settings, name, value)

    errors = [error for error in run_checks() if error.id == "journeys.E101"]

    assert [error.msg for error in errors if says in error.msg], errors
    assert not provisioning_enabled()  # off, rather than failing at a learner's click
