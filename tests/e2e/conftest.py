"""Browser tests: Playwright drives the system Chromium against Django's live server.

Without Chromium these tests are skipped with the reason shown in pytest's summary; in CI a missing
Chromium fails them instead, so a broken install can never pass as a green run.
"""

import os
import shutil

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from journeys.learners import Learner
from journeys.models import Certificate, Journey
from journeys.progress import services
from tests import factories


def _find_chromium():
    for candidate in (os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _find_chromium()
IN_CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
MISSING_CHROMIUM = "Chromium not found (apt-get install chromium, or set CHROMIUM_PATH): browser tests not run"

# Keep the browser quiet and offline: no update checks, sync or QUIC probes leaving the machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if not browser_items:
        return
    if CHROMIUM is None and not IN_CI:
        for item in browser_items:
            item.add_marker(pytest.mark.skip(reason=MISSING_CHROMIUM))
    # Last, so the rest of the suite runs before Playwright's event loop exists in this process.
    others = [item for item in items if not item.get_closest_marker("browser")]
    items[:] = others + browser_items


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright():
    # Playwright's sync API keeps an asyncio loop alive in this thread, and Django refuses ORM
    # calls while a loop runs; the tests only read and write the database between browser steps.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if CHROMIUM is None:
        pytest.fail(f"{MISSING_CHROMIUM} (CI must run them)", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def _static_root_for_live_server(tmp_path_factory):
    # The live server builds its middleware once, before any test's settings apply; WhiteNoise
    # would warn about the missing collected-static folder (the live server serves app statics).
    with override_settings(STATIC_ROOT=tmp_path_factory.mktemp("live-static-root")):
        yield


@pytest.fixture(scope="session")
def live_server(_static_root_for_live_server, live_server):
    return live_server


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Reduced motion turns smooth scrolling off, so screenshots never catch a page mid-scroll.
    return {**browser_context_args, "viewport": DESKTOP, "reduced_motion": "reduce"}


@pytest.fixture
def context(context):
    # Fail in seconds, not half a minute, when a page does not show what a test waits for.
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def site(transactional_db, live_server):
    """The real curriculum behind a running server (the live server needs committed data)."""
    call_command("load_journeys", verbosity=0)
    # Lab-check rate limits live in the process cache and would otherwise carry over between tests.
    cache.clear()
    return live_server


@pytest.fixture
def graduate(site):
    """A learner who finished the journey: every lesson complete and a certificate issued."""
    user = factories.UserFactory(username="grace", first_name="Grace", last_name="Hopper")
    journey = Journey.objects.get()
    for lesson in journey.lessons.all():
        services.lesson_complete(learner=Learner(user=user), lesson_id=lesson.pk)
    Certificate.objects.create(user=user, journey=journey, code="e2e0c0ffee", learner_name=user.get_full_name())
    return user
