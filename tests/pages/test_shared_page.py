"""Lesson pages shared by first-time readers: served from the cache with fresh tokens, never leaking
one reader's state to another."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from journeys.models import Lesson, QuizAttempt
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def quiz_setup():
    return factories.quiz_with_every_kind()


def test_second_reader_gets_the_cached_page_without_queries(client, quiz_setup, django_assert_num_queries):
    quiz, _, _ = quiz_setup
    url = quiz.lesson.get_absolute_url()
    first = client.get(url).content.decode()
    client.cookies.clear()
    with django_assert_num_queries(0):
        second = client.get(url).content.decode()
    assert "__kube_journeys" not in second
    assert TOKEN.search(first).group(1) != TOKEN.search(second).group(1)
    assert CSRF.search(first).group(1) != CSRF.search(second).group(1)
    # Same questions in the same order for first-time readers.
    assert re.findall(r'name="q(\d+)', first) == re.findall(r'name="q(\d+)', second)


def test_a_cached_page_works_for_submitting(client, quiz_setup):
    quiz, _, right = quiz_setup
    url = quiz.lesson.get_absolute_url()
    client.get(url)
    client.cookies.clear()
    page = client.get(url).content.decode()
    csrf_client = client.__class__(enforce_csrf_checks=True)
    csrf_client.cookies = client.cookies
    data = {**right, "token": TOKEN.search(page).group(1), "csrfmiddlewaretoken": CSRF.search(page).group(1)}
    response = csrf_client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "passed" in response.content.decode()
    assert QuizAttempt.objects.count() == 1


def test_two_first_time_readers_record_two_attempts(client, quiz_setup):
    quiz, _, right = quiz_setup
    url = quiz.lesson.get_absolute_url()
    for _ in range(2):
        client.cookies.clear()
        page = client.get(url).content.decode()
        client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": TOKEN.search(page).group(1)})
    assert QuizAttempt.objects.count() == 2
    assert QuizAttempt.objects.values("anon_key").distinct().count() == 2


def test_readers_with_a_session_or_an_account_get_their_own_page(client, user, quiz_setup):
    quiz, _, _ = quiz_setup
    url = quiz.lesson.get_absolute_url()
    client.get(url)
    client.post(reverse("journeys:lesson_complete", args=[quiz.lesson.pk]))  # starts a session
    assert settings.SESSION_COOKIE_NAME in client.cookies
    assert "You have completed this lesson." in client.get(url).content.decode()
    client.force_login(user)  # logging in moves the session's progress into the account
    page = client.get(url).content.decode()
    assert user.username in page and "You have completed this lesson." in page


def test_an_edit_reaches_cached_pages_at_once(client, quiz_setup):
    quiz, _, _ = quiz_setup
    url = quiz.lesson.get_absolute_url()
    client.get(url)
    lesson = Lesson.objects.get(pk=quiz.lesson.pk)
    lesson.body = lesson.body + "\n\nA sentence added later."
    lesson.save()
    client.cookies.clear()
    assert "A sentence added later." in client.get(url).content.decode()
    Lesson.objects.filter(pk=lesson.pk).update(is_published=False)
    client.cookies.clear()
    assert client.get(url).status_code == 404


def test_query_strings_are_cached_apart(client, quiz_setup):
    quiz, _, _ = quiz_setup
    url = quiz.lesson.get_absolute_url()
    client.get(url)
    client.cookies.clear()
    page = client.get(url + "?ref=newsletter").content.decode()
    assert "next=" in page and "%3Fref%3Dnewsletter" in page
