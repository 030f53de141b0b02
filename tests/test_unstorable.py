"""NUL bytes and broken characters anywhere in a request: 400 with a message, nothing stored, never a 500."""

import re

import pytest
from django.urls import reverse

from journeys.models import Certificate, QuizAttempt
from portal.unstorable import UnstorableTextError
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_nul_in_the_path_is_4xx_not_500(client):
    # The certificate page reads its code from the path; a code no certificate can have (a NUL in it)
    # is answered before the database is asked, as any unknown code is.
    response = client.get("/certificates/%00/")
    assert response.status_code == 404 and "This is not a valid Kube Journeys certificate" in response.content.decode()


def test_a_nul_that_reaches_a_query_is_refused_before_it_is_sent(db):
    # What the middleware turns into a 400 wherever else a NUL reaches the database.
    with pytest.raises(UnstorableTextError):
        Certificate.objects.filter(code="a\x00b").exists()


def test_a_nul_in_a_query_string_reaching_the_database_is_400(client, curriculum):
    response = client.get(reverse("journeys:search"), {"q": "stateful\x00set"})
    assert response.status_code in {200, 400}
    if response.status_code == 400:
        assert "cannot be stored" in response.content.decode()


def test_a_nul_in_a_form_field_is_refused_and_nothing_is_written(client, db):
    from django.contrib.auth import get_user_model

    response = client.post(
        reverse("journeys:signup"),
        {"username": "ada\x00", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"},
    )
    assert response.status_code in {200, 400}
    assert not get_user_model().objects.filter(username__startswith="ada").exists()


def test_a_nul_in_a_quiz_answer_is_400_and_records_nothing(client):
    quiz, questions, right = factories.quiz_with_every_kind()
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    answers = {**right, f"q{questions['short'].id}": "On\x00Failure", "token": token}
    response = client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), answers, headers={"HX-Request": "true"})
    assert response.status_code == 400 and "cannot be stored" in response.content.decode()
    assert not QuizAttempt.objects.exists()
    # The same form, answered without the NUL, is then recorded.
    answers[f"q{questions['short'].id}"] = "OnFailure"
    assert client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), answers).status_code in {200, 302}
    assert QuizAttempt.objects.count() == 1
