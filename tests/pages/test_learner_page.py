"""A learner's stored pages: served without a query, never after something they show has changed."""

import re
from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from journeys.models import LessonProgress, QuizAttempt
from journeys.pages import learner_page as learner_pages
from tests import factories

pytestmark = pytest.mark.django_db
DONE = "You have completed this lesson."
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')
# A masked CSRF token, wherever the page carries one (forms and the htmx headers).
MASKED_CSRF = re.compile(r"\b[A-Za-z0-9]{64}\b")


@pytest.fixture
def quiz_setup():
    return factories.quiz_with_every_kind()


@pytest.fixture
def learner_client(user):
    client = Client()
    client.force_login(user)
    return client


def read_from_store(client, url):
    """Read ``url`` and check it came from the store: no query but the session's own (sessions are in
    the database in tests; in production they come from the cache)."""
    with CaptureQueriesContext(connection) as queries:
        page = read(client, url)
    assert all("django_session" in query["sql"] for query in queries), [query["sql"] for query in queries]
    assert "__kube_journeys" not in page
    return page


def read_until_stored(client, url):
    """The first read records the lesson view, which retires what that same render stored."""
    read(client, url)
    return read(client, url)


def read(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_stored_lesson_runs_no_query_and_keeps_the_quiz_form(learner_client, quiz_setup):
    quiz, _, _ = quiz_setup
    url = quiz.lesson.get_absolute_url()
    first = read_until_stored(learner_client, url)
    second = read_from_store(learner_client, url)
    assert TOKEN.search(first).group(1) == TOKEN.search(second).group(1), "the session's open form, unchanged"
    assert CSRF.search(first).group(1) != CSRF.search(second).group(1), "each response gets its own CSRF mask"
    assert MASKED_CSRF.sub("", first) == MASKED_CSRF.sub("", second)


def test_a_stored_page_can_submit_its_quiz(user, quiz_setup):
    quiz, _, right = quiz_setup
    url = quiz.lesson.get_absolute_url()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    read(client, url)
    page = read(client, url)
    data = {**right, "token": TOKEN.search(page).group(1), "csrfmiddlewaretoken": CSRF.search(page).group(1)}
    response = client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert QuizAttempt.objects.filter(user=user, passed=True).count() == 1


def test_a_submission_shows_on_the_next_read(learner_client, user, quiz_setup):
    quiz, _, right = quiz_setup
    url = quiz.lesson.get_absolute_url()
    read(learner_client, url)
    page = read(learner_client, url)
    assert DONE not in page
    learner_client.post(
        reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": TOKEN.search(page).group(1)}
    )
    after = read(learner_client, url)
    assert TOKEN.search(after).group(1) != TOKEN.search(page).group(1), "a new form after the submission"
    assert reverse("journeys:attempt", args=[QuizAttempt.objects.get().pk]) in after
    assert DONE in after and "1 of 1 lesson complete" in after


def test_progress_made_in_another_browser_shows_at_once(learner_client, user, quiz_setup):
    lesson = quiz_setup[0].lesson
    url = lesson.get_absolute_url()
    before = read(learner_client, url)
    read(learner_client, url)
    other_browser = Client()
    other_browser.force_login(user)
    other_browser.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    assert LessonProgress.objects.get(user=user).completed_at is not None
    assert DONE not in before
    assert DONE in read(learner_client, url)


def test_an_edit_in_admin_shows_on_a_stored_page(learner_client, quiz_setup):
    lesson = quiz_setup[0].lesson
    url = lesson.get_absolute_url()
    read(learner_client, url)
    read(learner_client, url)
    lesson.title = "A freshly edited title"
    lesson.save()
    assert "A freshly edited title" in read(learner_client, url)


def test_a_password_changed_elsewhere_signs_this_browser_out(learner_client, user, quiz_setup):
    url = quiz_setup[0].lesson.get_absolute_url()
    read(learner_client, url)
    assert user.username in read(learner_client, url)
    user.set_password("a-brand-new-password-123")
    user.save()
    page = read(learner_client, url)
    assert user.username not in page
    assert reverse("login") in page


def test_a_deactivated_account_is_not_served_its_stored_pages(learner_client, user):
    read(learner_client, reverse("journeys:dashboard"))
    read(learner_client, reverse("journeys:dashboard"))
    user.is_active = False
    user.save()
    assert user.username not in read(learner_client, reverse("journeys:dashboard"))


def test_sessions_do_not_share_pages(user, quiz_setup):
    url = quiz_setup[0].lesson.get_absolute_url()
    first, second = Client(), Client()
    first.force_login(user)
    second.force_login(user)
    read(first, url)
    first_form = TOKEN.search(read(first, url)).group(1)
    second_form = TOKEN.search(read(second, url)).group(1)
    assert first_form != second_form, "each session has its own open quiz form"


def test_anonymous_learners_have_their_own_pages(client, quiz_setup):
    quiz, _, right = quiz_setup
    url = quiz.lesson.get_absolute_url()
    page = read(client, url)
    client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": TOKEN.search(page).group(1)})
    mine = read_until_stored(client, url)
    again = read_from_store(client, url)
    assert MASKED_CSRF.sub("", again) == MASKED_CSRF.sub("", mine)
    stranger = Client()
    stranger_page = read(stranger, url)
    attempt_url = reverse("journeys:attempt", args=[QuizAttempt.objects.get().pk])
    assert attempt_url in mine and attempt_url not in stranger_page


def test_a_page_with_a_message_to_show_is_not_served_from_the_store(learner_client, quiz_setup):
    url = quiz_setup[0].lesson.get_absolute_url()
    read_until_stored(learner_client, url)
    stored = learner_pages.lookup(_request_for(learner_client, url))
    assert stored is not None and stored.response() is not None
    learner_client.cookies["messages"] = "pending"
    assert learner_pages.lookup(_request_for(learner_client, url)) is None


def test_the_dashboard_is_stored_for_a_minute_at_most(learner_client, monkeypatch):
    url = reverse("journeys:dashboard")
    read(learner_client, url)
    read_from_store(learner_client, url)
    now = learner_pages.clock()
    monkeypatch.setattr(learner_pages, "clock", lambda: now + 61)
    with CaptureQueriesContext(connection) as queries:
        read(learner_client, url)
    assert len(queries) > 0, "a copy older than a minute is rendered again (it says how long ago things happened)"


def test_a_lesson_view_is_recorded_again_when_it_is_due(learner_client, user, quiz_setup, monkeypatch):
    lesson = quiz_setup[0].lesson
    url = lesson.get_absolute_url()
    read(learner_client, url)
    read(learner_client, url)
    long_ago = timezone.now() - timedelta(minutes=6)
    LessonProgress.objects.filter(user=user, lesson=lesson).update(last_viewed_at=long_ago)
    now = learner_pages.clock()
    monkeypatch.setattr(learner_pages, "clock", lambda: now + 5 * 60 + 1)
    read(learner_client, url)
    assert LessonProgress.objects.get(user=user, lesson=lesson).last_viewed_at > long_ago


def test_the_next_step_follows_the_last_lesson_read(learner_client, curriculum):
    dashboard = reverse("journeys:dashboard")
    read(learner_client, "/journeys/intermediate-app-developer/jobs/")
    assert "Continue “Jobs”" in read(learner_client, dashboard)
    read(learner_client, "/journeys/intermediate-app-developer/cronjobs/")
    page = read(learner_client, dashboard)
    next_step = re.search(r'<div class="next-step">.*?<a class="button" href="([^"]+)"', page, re.S).group(1)
    assert next_step.endswith("/cronjobs/")


def _request_for(client, url):
    """A request carrying ``client``'s cookies, as the view sees it after the middleware."""
    request = RequestFactory().get(url)
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(
        request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    )
    request.htmx = False
    return request


def test_an_address_with_a_query_string_is_never_stored(learner_client, quiz_setup):
    url = quiz_setup[0].lesson.get_absolute_url() + "?utm_source=newsletter"
    read_until_stored(learner_client, url)
    with CaptureQueriesContext(connection) as queries:
        read(learner_client, url)
    assert any("journeys_lesson" in query["sql"] for query in queries), "rendered, not served from the store"
