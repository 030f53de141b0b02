"""Quiz forms never wedge and are bound to the learner they were handed to.

Whatever happened to an earlier request (a 500 after the commit, a killed worker, an expired form,
a form submitted elsewhere), the next page view shows a form that records the learner's answers;
a form posted by anybody but its learner is refused and changes nothing.
"""

import re
import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from journeys import services
from journeys.learners import SESSION_KEY as ANON_SESSION_KEY
from journeys.models import QuestionResponse, QuizAttempt
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def quiz_setup():
    return factories.quiz_with_every_kind()


def open_quiz(client, quiz):
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    return TOKEN.search(page).group(1)


def submit(client, quiz, data, *, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers=headers)


def open_forms(client, quiz):
    return client.session.get(services.OPEN_FORMS_SESSION_KEY, {}).get(str(quiz.pk))


def lose_the_session_save(client, quiz, token):
    """As if the session's save after submitting ``token`` never happened: it still holds the form."""
    session = client.session
    session[services.OPEN_FORMS_SESSION_KEY] = {**session.get(services.OPEN_FORMS_SESSION_KEY, {}), str(quiz.pk): token}
    session.save()


def started_learner(user=None):
    """A learner with a session (and so a form bound to them): signed in, or anonymous with a key."""
    client = Client()
    if user is not None:
        client.force_login(user)
    else:
        session = client.session
        session[ANON_SESSION_KEY] = f"anon-{time.monotonic_ns()}"
        session.save()
    return client


@pytest.mark.parametrize("owner_kind", ["user", "anon"])
@pytest.mark.parametrize("intruder_kind", ["user", "anon"])
def test_another_learners_open_form_is_refused_and_changes_nothing(quiz_setup, owner_kind, intruder_kind):
    quiz, _, right = quiz_setup
    owner = started_learner(factories.UserFactory() if owner_kind == "user" else None)
    intruder = started_learner(factories.UserFactory() if intruder_kind == "user" else None)
    token = open_quiz(owner, quiz)
    intruder_form = open_quiz(intruder, quiz)

    response = submit(intruder, quiz, {**right, "token": token}, htmx=True)
    assert response.status_code == 403 and "belongs to someone else" in response.content.decode()
    assert not QuizAttempt.objects.exists() and not QuestionResponse.objects.exists()
    assert open_forms(intruder, quiz) == intruder_form, "the intruder's own form is left alone"
    assert open_forms(owner, quiz) == token

    response = submit(owner, quiz, {**right, "token": token})
    attempt = QuizAttempt.objects.get()
    assert response.status_code == 302 and response["Location"] == attempt.get_absolute_url()
    assert owner.get(attempt.get_absolute_url()).status_code == 200


def test_a_replay_of_ones_own_recorded_form_returns_its_result_and_the_next_form_is_fresh(user, quiz_setup):
    quiz, _, right = quiz_setup
    client = started_learner(user)
    token = open_quiz(client, quiz)
    first = submit(client, quiz, {**right, "token": token})
    again = submit(client, quiz, {**right, "token": token})
    assert first.status_code == again.status_code == 302 and first["Location"] == again["Location"]
    assert QuizAttempt.objects.count() == 1 and QuestionResponse.objects.count() == 6

    fresh = open_quiz(client, quiz)
    assert fresh != token
    assert submit(client, quiz, {**right, "token": fresh}).status_code == 302
    assert QuizAttempt.objects.count() == 2


def test_a_replay_while_the_session_still_holds_the_recorded_form_renews_it(user, quiz_setup):
    quiz, _, right = quiz_setup
    client = started_learner(user)
    token = open_quiz(client, quiz)
    first = submit(client, quiz, {**right, "token": token})
    lose_the_session_save(client, quiz, token)

    again = submit(client, quiz, {**right, "token": token})
    assert again.status_code == 302 and again["Location"] == first["Location"], "the old result"
    assert QuizAttempt.objects.count() == 1, "nothing new"
    assert open_forms(client, quiz) not in (None, token), "the session no longer points at it"
    fresh = open_quiz(client, quiz)
    assert fresh != token
    assert submit(client, quiz, {**right, "token": fresh}).status_code == 302
    assert QuizAttempt.objects.count() == 2


def test_an_expired_form_is_refused_once_and_a_reload_serves_one_that_records(user, quiz_setup, settings, monkeypatch):
    quiz, _, right = quiz_setup
    settings.QUIZ_FORM_MAX_AGE = 3600
    client = started_learner(user)
    now = time.time()
    with monkeypatch.context() as patched:
        # The form was handed out two hours ago (the signature's timestamp is what expires).
        patched.setattr(signing.time, "time", lambda: now - 7200)
        old = open_quiz(client, quiz)
    assert open_forms(client, quiz) == old

    response = submit(client, quiz, {**right, "token": old}, htmx=True)
    assert response.status_code == 409 and "out of date" in response.content.decode()
    assert not QuizAttempt.objects.exists()
    assert TOKEN.search(response.content.decode()).group(1) != old, "the refusal already shows a new form"

    fresh = open_quiz(client, quiz)
    assert fresh != old
    assert submit(client, quiz, {**right, "token": fresh}).status_code == 302
    assert QuizAttempt.objects.count() == 1


def test_an_expired_form_left_in_the_session_is_replaced_on_the_next_page_view(user, quiz_setup, settings):
    quiz, _, _ = quiz_setup
    client = started_learner(user)
    token = open_quiz(client, quiz)
    settings.QUIZ_FORM_MAX_AGE = -1  # every form is out of date now
    assert open_quiz(client, quiz) != token


class AfterCommitError(Exception):
    pass


@pytest.mark.parametrize("how", ["500 after the commit", "worker killed after the commit"])
def test_a_committed_attempt_whose_session_was_not_saved_does_not_wedge_the_quiz(user, quiz_setup, monkeypatch, how):
    quiz, questions, right = quiz_setup
    client = started_learner(user)
    token = open_quiz(client, quiz)
    if how == "500 after the commit":
        # Something after the commit raises (the cache write in a Redis hang): the response is a
        # 500, and Django does not save the session of a 500.
        def broken(**kwargs):
            raise AfterCommitError

        client.raise_request_exception = False
        with monkeypatch.context() as patched:
            patched.setattr(services.metrics, "quiz_submitted", broken)
            assert submit(client, quiz, {**right, "token": token}).status_code == 500
        assert open_forms(client, quiz) == token, "the session was not saved"
    else:
        submit(client, quiz, {**right, "token": token})
        lose_the_session_save(client, quiz, token)
    recorded = QuizAttempt.objects.get()

    fresh = open_quiz(client, quiz)
    assert fresh != token, "the page shows a form that records"
    wrong = {**right, f"q{questions['short'].id}": "Never"}
    response = submit(client, quiz, {**wrong, "token": fresh})
    latest = QuizAttempt.objects.exclude(pk=recorded.pk).get()
    assert response.status_code == 302 and response["Location"] == latest.get_absolute_url()
    assert latest.answers[str(questions["short"].id)] == "Never", "the learner's new answers"


def test_a_form_handed_out_before_logging_in_is_accepted_right_after(user, quiz_setup):
    quiz, _, right = quiz_setup
    client = Client()
    first = open_quiz(client, quiz)  # a first-time visitor: no session yet
    submit(client, quiz, {**right, "token": first})  # now they have an anonymous key and a session
    anon_form = open_quiz(client, quiz)
    assert services.quiz_form_read(anon_form, quiz=quiz).owner, "bound to the anonymous key"

    client.force_login(user)  # their progress moves to the account; the session keeps its data
    assert open_quiz(client, quiz) == anon_form, "the same form after logging in"
    response = submit(client, quiz, {**right, "token": anon_form})
    assert response.status_code == 302
    assert QuizAttempt.objects.filter(user=user).count() == 2

    replay = submit(client, quiz, {**right, "token": first})
    assert replay.status_code == 302, "an attempt made before logging in is the account's now"
    assert QuizAttempt.objects.count() == 2


def test_a_form_handed_to_a_first_time_visitor_is_bound_to_nobody(user, quiz_setup):
    """A visitor without a session has no learner key to bind their form to (and reading a page
    gives them none): whoever submits that form first owns the attempt. The visitor is then refused
    once and handed a form of their own, which records."""
    quiz, _, right = quiz_setup
    visitor = Client()
    token = open_quiz(visitor, quiz)
    assert not services.quiz_form_read(token, quiz=quiz).owner
    assert submit(started_learner(user), quiz, {**right, "token": token}).status_code == 302

    refused = submit(visitor, quiz, {**right, "token": token}, htmx=True)
    assert refused.status_code == 403
    own = TOKEN.search(refused.content.decode()).group(1)
    assert own != token and services.quiz_form_read(own, quiz=quiz).owner
    assert submit(visitor, quiz, {**right, "token": own}).status_code == 302
    assert QuizAttempt.objects.filter(user__isnull=True).count() == 1
