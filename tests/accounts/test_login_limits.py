"""Failed sign-ins are limited per account and address, and per address; password resets per address."""

import logging
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.core import mail
from django.urls import reverse

from portal import resilience
from tests import factories
from tests.servers import PrivateRedis

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
SITE_LOGIN = "login"
ADMIN_LOGIN = "admin:login"


def sign_in(client, user_or_name, password, *, where=SITE_LOGIN, address="203.0.113.7"):
    username = getattr(user_or_name, "username", user_or_name)
    return client.post(reverse(where), {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, user, times, **kwargs):
    return [sign_in(client, user, "wrong-password", **kwargs).status_code for _ in range(times)]


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def _fresh_handler():
    """The handler is built once per process from the settings; each test builds it from its own."""
    AxesProxyHandler.get_implementation(force=True)
    yield
    AxesProxyHandler.implementation = None


def test_five_wrong_passwords_pause_the_account_and_the_right_one_is_refused(client, user):
    assert fail(client, user, 4) == [200] * 4
    paused = sign_in(client, user, "wrong-password")
    assert paused.status_code == 429
    text = paused.content.decode()
    assert "Please wait 15 minutes" in text
    assert "Account locked" not in text  # our page, not the default one
    assert 0 < int(paused["Retry-After"]) <= 15 * 60

    refused = sign_in(client, user, PASSWORD)
    assert refused.status_code == 429
    assert "Please wait" in refused.content.decode()
    assert not signed_in(client)


def test_the_pause_is_per_account_and_address(client, user):
    other = factories.UserFactory()
    fail(client, user, 5)
    # Another account from the same address, and the same account from another address, sign in.
    assert sign_in(client, other, PASSWORD).status_code == 302
    client.logout()
    assert sign_in(client, user, PASSWORD, address="198.51.100.9").status_code == 302


def test_one_address_trying_many_accounts_is_paused_for_every_account(client, settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 8
    statuses = []
    for _ in range(4):
        statuses += fail(client, factories.UserFactory(), 2)  # each account below its own limit
    assert statuses == [200] * 7 + [429]
    fresh = factories.UserFactory()
    assert sign_in(client, fresh, PASSWORD).status_code == 429
    assert sign_in(client, fresh, PASSWORD, address="198.51.100.9").status_code == 302


def test_admin_login_is_limited_the_same_way(client, staff_user):
    assert fail(client, staff_user, 5, where=ADMIN_LOGIN) == [200] * 4 + [429]
    refused = sign_in(client, staff_user, PASSWORD, where=ADMIN_LOGIN)
    assert refused.status_code == 429
    assert "Please wait 15 minutes" in refused.content.decode()
    assert not signed_in(client)


def test_the_two_login_pages_share_one_count(client, staff_user):
    fail(client, staff_user, 3, where=ADMIN_LOGIN)
    assert fail(client, staff_user, 2) == [200, 429]


def test_a_successful_sign_in_resets_the_accounts_count(client, user):
    assert fail(client, user, 4) == [200] * 4
    assert sign_in(client, user, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, user, 5) == [200] * 4 + [429]


def test_the_address_count_survives_a_sign_in_to_an_own_account(client, user, settings):
    settings.SIGNIN_ADDRESS_FAILURE_LIMIT = 6
    victims = [factories.UserFactory() for _ in range(3)]
    for victim in victims[:2]:
        fail(client, victim, 2)
    assert sign_in(client, user, PASSWORD).status_code == 302
    client.logout()
    assert fail(client, victims[2], 2) == [200, 429]


def test_after_the_cool_off_the_right_password_works(client, user):
    fail(client, user, 5)
    assert sign_in(client, user, PASSWORD).status_code == 429
    # Sixteen minutes later, as the database sees it.
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=16)
        attempt.save(update_fields=["attempt_time"])
    assert sign_in(client, user, PASSWORD).status_code == 302


def test_limits_read_the_address_the_trusted_proxy_saw(client, user, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    for _ in range(5):
        client.post(
            reverse(SITE_LOGIN),
            {"username": user.username, "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.50",
        )
    # Another learner behind the same proxy signs in to the same account name: a different address.
    response = client.post(
        reverse(SITE_LOGIN),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.60",
    )
    assert response.status_code == 302


# --- Counting in Redis, and when Redis is down ---


@pytest.fixture
def redis_counts(settings, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path).start()
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.resilience.ResilientRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
            "KEY_PREFIX": "kj-test",
        }
    }
    settings.AXES_HANDLER = "journeys.accounts.signin_limits.CacheSignInLimits"
    resilience.breaker.reset()
    AxesProxyHandler.get_implementation(force=True)
    yield server
    server.stop()
    resilience.breaker.reset()


def test_with_redis_the_counts_live_in_the_cache(client, user, redis_counts):
    assert fail(client, user, 5) == [200] * 4 + [429]
    assert sign_in(client, user, PASSWORD).status_code == 429
    assert not AccessAttempt.objects.exists()
    other = factories.UserFactory()
    assert sign_in(client, other, PASSWORD).status_code == 302


def test_with_redis_a_success_resets_and_the_pause_ends(client, user, redis_counts, settings):
    fail(client, user, 4)
    assert sign_in(client, user, PASSWORD).status_code == 302
    client.logout()
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    assert fail(client, user, 5) == [200] * 4 + [429]
    assert sign_in(client, user, PASSWORD).status_code == 429
    time.sleep(2.1)
    assert sign_in(client, user, PASSWORD).status_code == 302


def test_when_redis_is_down_the_counts_move_to_the_database(client, user, redis_counts, caplog):
    redis_counts.stop()
    with caplog.at_level(logging.WARNING):
        assert fail(client, user, 5) == [200] * 4 + [429]
        assert sign_in(client, user, PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().failures_since_start == 5
    assert "counting in the database" in caplog.text


# --- Password resets ---


def request_reset(client, email, address="203.0.113.7"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_password_resets_beyond_the_limit_per_address_send_nothing(client, settings):
    settings.PASSWORD_RESETS_PER_HOUR_PER_RECIPIENT = 100
    user = factories.UserFactory()
    answers = [request_reset(client, user.email) for _ in range(6)]
    assert len(mail.outbox) == 5
    # The same answer every time: nobody learns whether an address has an account, or hit a limit.
    assert {(answer.status_code, answer["Location"]) for answer in answers} == {(302, reverse("password_reset_done"))}
    assert request_reset(client, user.email, address="198.51.100.9").status_code == 302
    assert len(mail.outbox) == 6


def test_password_resets_per_recipient_are_limited_from_any_address(client):
    user = factories.UserFactory()
    for number in range(5):
        request_reset(client, user.email, address=f"198.51.100.{number + 1}")
    assert len(mail.outbox) == 3


def test_unknown_addresses_count_too_and_answer_the_same(client):
    answers = [request_reset(client, f"nobody{n}@example.com") for n in range(6)]
    assert {answer.status_code for answer in answers} == {302}
    user = factories.UserFactory()
    request_reset(client, user.email)
    assert mail.outbox == []


def test_without_a_mail_server_the_reset_link_is_never_logged(client, settings, caplog, capsys):
    settings.EMAIL_BACKEND = "journeys.accounts.mail.UnsentMailBackend"
    user = factories.UserFactory()
    with caplog.at_level(logging.DEBUG):
        assert request_reset(client, user.email).status_code == 302
    assert "would have been sent" in caplog.text
    assert "set EMAIL_HOST" in caplog.text
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err):
        assert "/account/reset/" not in text
        assert user.username not in text


def settings_value(name, **env):
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "EMAIL_HOST", "EMAIL_BACKEND", "REDIS_URL"}
    }
    code = f"import portal.settings as s; print(s.{name})"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_production_without_a_mail_server_uses_the_quiet_backend_and_development_the_console():
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50}
    assert settings_value("EMAIL_BACKEND", **production) == "journeys.accounts.mail.UnsentMailBackend"
    assert settings_value("EMAIL_BACKEND", DEBUG="true") == "django.core.mail.backends.console.EmailBackend"
    with_smtp = settings_value("EMAIL_BACKEND", EMAIL_HOST="smtp.example.com", **production)
    assert with_smtp == "django.core.mail.backends.smtp.EmailBackend"


def test_the_handler_follows_redis_url():
    assert settings_value("AXES_HANDLER", DEBUG="true") == "journeys.accounts.signin_limits.DatabaseSignInLimits"
    with_redis = settings_value("AXES_HANDLER", DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")
    assert with_redis == "journeys.accounts.signin_limits.CacheSignInLimits"
