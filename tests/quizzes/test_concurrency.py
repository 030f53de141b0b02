"""Two submits of the same quiz form at the same moment record one attempt (PostgreSQL)."""

import re
import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from journeys.learners import SESSION_KEY as ANON_SESSION_KEY
from journeys.models import QuizAttempt
from tests import factories

TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("logged_in", [True, False], ids=["learner", "anonymous"])
def test_concurrent_double_submit_records_one_attempt(logged_in):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every write, so there is no race to test")
    quiz, _, right = factories.quiz_with_every_kind()
    first = Client()
    if logged_in:
        first.force_login(factories.UserFactory())
    page = first.get(quiz.lesson.get_absolute_url()).content.decode()
    data = {**right, "token": TOKEN.search(page).group(1)}
    # A second tab of the same browser: same session cookie, separate connection.
    second = Client()
    second.cookies = first.cookies

    start = threading.Barrier(4)
    statuses = []

    def post(browser):
        try:
            start.wait()
            response = browser.post(
                reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers={"HX-Request": "true"}
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(browser,)) for browser in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200, 200, 200, 200]
    assert QuizAttempt.objects.filter(quiz=quiz).count() == 1
    assert QuizAttempt.objects.get().responses.count() == 6
    if not logged_in:
        # Whichever answer's cookie the browser kept last, the attempt is under its key.
        assert first.session[ANON_SESSION_KEY] == QuizAttempt.objects.get().anon_key
