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

from journeys.learners import SESSION_KEY as ANON_SESSION_KEY
from journeys.models import QuestionResponse, QuizAttempt
from journeys.quizzes import services
from tests import factories
from tests.test_admin_quizzes import change_question, page_text, question_data, stored_rows

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


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain form"])
def test_a_first_time_visitors_double_submit_keeps_their_attempt_whichever_cookie_lands_last(quiz_setup, htmx):
    """Both requests leave without a session cookie, so each would mint its own anonymous key; the
    second joins the key the first was given, so the attempt stays the visitor's either way."""
    quiz, _, right = quiz_setup
    token = open_quiz(Client(), quiz)
    first, second = Client(), Client()  # the same browser, before either answer arrived
    assert submit(first, quiz, {**right, "token": token}, htmx=htmx).status_code in (200, 302)
    response = submit(second, quiz, {**right, "token": token}, htmx=htmx)

    attempt = QuizAttempt.objects.get()
    assert response.status_code in (200, 302), response.content.decode()[:300]
    assert second.session[ANON_SESSION_KEY] == first.session[ANON_SESSION_KEY] == attempt.anon_key
    result = second.get(attempt.get_absolute_url())
    assert result.status_code == 200, "the attempt is the second cookie's too"


def test_a_visitor_with_a_session_never_joins_someone_elses_key(quiz_setup):
    quiz, _, right = quiz_setup
    token = open_quiz(Client(), quiz)
    assert submit(Client(), quiz, {**right, "token": token}).status_code == 302
    other = started_learner()
    own_key = other.session[ANON_SESSION_KEY]
    assert submit(other, quiz, {**right, "token": token}, htmx=True).status_code == 403
    assert other.session[ANON_SESSION_KEY] == own_key


# --- Forms opened before an author's edit ---
# A form remembers what it asked (its questions' ids, kinds and choice ids, and a drawn form the
# questions it drew): an edit that keeps their meaning leaves it valid; one that changes it makes the
# form out of date, refused in plain words with the current form in the same answer, never graded
# against questions the learner did not see and never called tampering.

QUIZ_CHANGED = "This quiz changed since you opened it, so your answers were not recorded."


@pytest.fixture
def staff():
    client = Client()
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    return client


def edit_question(staff, question, *, kind=None, rows=None, **fields):
    """Save ``question`` through its admin page with ``fields`` changed (its choices as stored unless ``rows``)."""
    values = {
        "prompt": question.prompt,
        "explanation": question.explanation,
        "order": question.order,
        "accepted_answers": "\n".join(question.accepted_answers),
        "wrong_feedback": question.wrong_feedback,
        **fields,
    }
    rows = stored_rows(question) if rows is None else rows
    data = question_data(quiz=question.quiz, kind=kind or question.kind, rows=rows, question=question, **values)
    response = change_question(staff, question, data)
    assert response.status_code == 302, page_text(response)[:3000]


def delete_question(staff, question):
    response = staff.post(reverse("admin:journeys_question_delete", args=[question.pk]), {"post": "yes"})
    assert response.status_code == 302, page_text(response)[:3000]


def refused_as_changed(response, old_token):
    """Assert ``response`` is the plain out-of-date refusal; return the current form's token it shows."""
    text = page_text(response)
    assert response.status_code == 409, text[:3000]
    assert QUIZ_CHANGED in text and "not in this quiz" not in text
    fresh = TOKEN.search(text).group(1)
    assert fresh != old_token, "the refusal shows a new form"
    return fresh


def without(answers, question):
    return {name: value for name, value in answers.items() if not re.match(rf"q{question.pk}(-|$)", name)}


# Each case: the question edited, and the fields its admin page is saved with.
EDITS_THAT_KEEP_THE_MEANING = {
    "prompt and explanation reworded": (
        "single",
        lambda question: {"prompt": "Which one keeps names?", "explanation": "Sticky identities."},
    ),
    "a wrong choice reworded": (
        "single",
        lambda question: {"rows": stored_rows(question, Deployment={"text": "A Deployment", "feedback": "Random."})},
    ),
    "moved to the end of the quiz": ("single", lambda question: {"order": 9}),
    "another accepted answer": ("short", lambda question: {"accepted_answers": "OnFailure\nOn failure"}),
}


@pytest.mark.parametrize("edit", EDITS_THAT_KEEP_THE_MEANING)
def test_an_edit_that_keeps_the_questions_meaning_leaves_open_forms_valid(user, quiz_setup, staff, edit):
    quiz, questions, right = quiz_setup
    kind, fields = EDITS_THAT_KEEP_THE_MEANING[edit]
    question = questions[kind]
    fields = fields(question)
    client = started_learner(user)
    token = open_quiz(client, quiz)
    visitor = Client()
    visitor_token = open_quiz(visitor, quiz)

    edit_question(staff, question, **fields)
    assert open_quiz(client, quiz) == token, "a reload after the edit shows the same form"
    response = submit(client, quiz, {**right, "token": token})
    attempt = QuizAttempt.objects.get()
    assert response.status_code == 302 and response["Location"] == attempt.get_absolute_url()
    assert attempt.score == 100 and QuestionResponse.objects.count() == 6
    assert submit(visitor, quiz, {**right, "token": visitor_token}).status_code == 302, "a first-time visitor's too"


@pytest.mark.parametrize("learner_kind", ["signed in", "first-time visitor"])
def test_a_deleted_question_makes_open_forms_out_of_date_in_plain_words(user, quiz_setup, staff, learner_kind):
    quiz, questions, right = quiz_setup
    client = started_learner(user) if learner_kind == "signed in" else Client()
    token = open_quiz(client, quiz)

    delete_question(staff, questions["kubectl"])
    response = submit(client, quiz, {**right, "token": token}, htmx=True)
    fresh = refused_as_changed(response, token)
    assert not QuizAttempt.objects.exists() and not QuestionResponse.objects.exists()
    if learner_kind == "signed in":
        assert open_forms(client, quiz) == fresh, "the session holds the form shown"

    response = submit(client, quiz, {**without(right, questions["kubectl"]), "token": fresh})
    attempt = QuizAttempt.objects.get()
    assert response.status_code == 302 and response["Location"] == attempt.get_absolute_url()
    assert len(attempt.question_ids) == 5 and attempt.score == 100


def test_a_new_choice_makes_an_open_form_out_of_date_and_the_next_page_view_brings_one_that_records(
    user, quiz_setup, staff
):
    quiz, questions, right = quiz_setup
    client = started_learner(user)
    token = open_quiz(client, quiz)
    multiple = questions["multiple"]

    edit_question(staff, multiple, rows=[*stored_rows(multiple), {"text": "Pod", "feedback": "A Pod restarts."}])
    fresh = open_quiz(client, quiz)
    assert fresh != token, "the page view replaced the form"
    assert refused_as_changed(submit(client, quiz, {**right, "token": token}, htmx=True), token) == fresh
    assert not QuizAttempt.objects.exists()
    assert submit(client, quiz, {**right, "token": fresh}).status_code == 302
    assert QuizAttempt.objects.get().score == 100


def test_a_form_is_still_bound_to_its_learner_after_its_quiz_changed(quiz_setup, staff):
    quiz, questions, right = quiz_setup
    owner = started_learner(factories.UserFactory())
    intruder = started_learner(factories.UserFactory())
    token = open_quiz(owner, quiz)
    intruder_form = open_quiz(intruder, quiz)

    edit_question(staff, questions["short"], kind="kubectl", accepted_answers="kubectl get pods")
    response = submit(intruder, quiz, {**right, "token": token}, htmx=True)
    assert response.status_code == 403 and "belongs to someone else" in page_text(response)
    assert QUIZ_CHANGED not in page_text(response), "nothing about the owner's form"
    assert not QuizAttempt.objects.exists()
    assert open_forms(owner, quiz) == token, "the owner's form is left alone"
    assert open_forms(intruder, quiz) not in (token, intruder_form), "the intruder's own form is current"

    fresh = open_quiz(owner, quiz)
    assert fresh != token, "the owner's next page view brings the current form"
    assert (
        submit(owner, quiz, {**right, f"q{questions['short'].id}": "kubectl get pods", "token": fresh}).status_code
        == 302
    )
    assert QuizAttempt.objects.get().score == 100


def test_a_recorded_form_sent_again_after_its_quiz_changed_returns_its_result(user, quiz_setup, staff):
    quiz, questions, right = quiz_setup
    client = started_learner(user)
    token = open_quiz(client, quiz)
    first = submit(client, quiz, {**right, "token": token})
    assert first.status_code == 302

    single = questions["single"]
    rows = [{**row, "delete": True} for row in stored_rows(single)]
    edit_question(staff, single, kind="short", rows=rows, accepted_answers="StatefulSet")
    again = submit(client, quiz, {**right, "token": token})
    assert again.status_code == 302 and again["Location"] == first["Location"], "what was acknowledged stands"
    assert QuizAttempt.objects.count() == 1


def test_a_cached_pages_forms_carry_what_the_page_asked(quiz_setup, staff):
    quiz, questions, right = quiz_setup
    open_quiz(Client(), quiz)  # the first reader's page is stored for the next ones
    reader, other_reader = Client(), Client()
    token, other_token = open_quiz(reader, quiz), open_quiz(other_reader, quiz)
    assert token != other_token

    edit_question(staff, questions["ordering"], prompt="Put the steps of a request in order.")
    assert submit(reader, quiz, {**right, "token": token}).status_code == 302, "a reworded prompt: still valid"

    delete_question(staff, questions["short"])
    fresh = refused_as_changed(submit(other_reader, quiz, {**right, "token": other_token}, htmx=True), other_token)
    assert submit(other_reader, quiz, {**without(right, questions["short"]), "token": fresh}).status_code == 302
    assert QuizAttempt.objects.count() == 2


def test_a_form_handed_out_before_forms_carried_their_questions_is_graded_as_then(quiz_setup):
    quiz, _, right = quiz_setup
    payload = {"a": "8a4c3f2e-3b1d-4c55-9a55-3f0d1b9e2c71", "s": 7, "t": "2026-01-01T00:00:00+00:00", "q": quiz.pk}
    legacy = signing.dumps(payload, salt=services.QUIZ_FORM_SALT, compress=True)
    assert submit(Client(), quiz, {**right, "token": legacy}).status_code == 302
    assert QuizAttempt.objects.get().score == 100


# --- A final assessment that draws its questions ---


@pytest.fixture
def drawn_assessment():
    """A final assessment drawing 2 of 4 short-answer questions (each answered "a")."""
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, draw=2)
    for order in range(4):
        factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"], order=order)
    return final


def open_assessment(client, final):
    """The token of the assessment's form and the ids of the questions it shows, in order."""
    page = client.get(reverse("journeys:assessment", args=[final.journey.slug])).content.decode()
    return TOKEN.search(page).group(1), [int(number) for number in re.findall(r'name="q(\d+)"', page)]


def answer_all(client, final, token, shown):
    return submit(client, final, {"token": token, **{f"q{number}": "a" for number in shown}}, htmx=True)


def test_a_drawn_form_keeps_its_questions_on_reload_while_the_pool_grows(user, drawn_assessment, staff):
    final = drawn_assessment
    client = started_learner(user)
    token, shown = open_assessment(client, final)
    response = staff.post(
        reverse("admin:journeys_question_add"), question_data(quiz=final, kind="short", accepted_answers="b", order=9)
    )
    assert response.status_code == 302
    assert final.questions.count() == 5

    assert open_assessment(client, final) == (token, shown), "the same form, the same questions"
    assert answer_all(client, final, token, shown).status_code == 200
    attempt = QuizAttempt.objects.get()
    assert attempt.question_ids == shown and attempt.score == 100


@pytest.mark.parametrize("one_it_shows", [True, False], ids=["a question it shows", "a question it does not show"])
def test_a_drawn_form_is_out_of_date_only_when_one_of_its_questions_is_removed(
    user, drawn_assessment, staff, one_it_shows
):
    final = drawn_assessment
    client = started_learner(user)
    token, shown = open_assessment(client, final)
    removed = next(question for question in final.questions.all() if (question.pk in shown) == one_it_shows)
    delete_question(staff, removed)

    response = answer_all(client, final, token, shown)
    if not one_it_shows:
        assert response.status_code == 200 and QuizAttempt.objects.get().question_ids == shown
        return
    fresh = refused_as_changed(response, token)
    assert not QuizAttempt.objects.exists()
    fresh_token, fresh_shown = open_assessment(client, final)
    assert fresh_token == fresh and removed.pk not in fresh_shown and len(fresh_shown) == 2
    assert answer_all(client, final, fresh, fresh_shown).status_code == 200
    assert QuizAttempt.objects.get().question_ids == fresh_shown


def test_a_new_draw_size_makes_drawn_forms_out_of_date(user, drawn_assessment):
    final = drawn_assessment
    client = started_learner(user)
    token, shown = open_assessment(client, final)
    final.draw = 3
    final.save()

    fresh = refused_as_changed(answer_all(client, final, token, shown), token)
    fresh_token, fresh_shown = open_assessment(client, final)
    assert fresh_token == fresh and len(fresh_shown) == 3
    assert answer_all(client, final, fresh, fresh_shown).status_code == 200
    assert QuizAttempt.objects.get().question_ids == fresh_shown
