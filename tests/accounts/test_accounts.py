"""Accounts, the session-to-account merge, the learner's own data, and privacy between learners."""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.http import HttpRequest
from django.urls import reverse

from journeys.models import Certificate, LessonProgress, QuizAttempt
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')
User = get_user_model()


def take_quiz(client, quiz, answers):
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    data = {**answers, "token": TOKEN.search(page).group(1)}
    return client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers={"HX-Request": "true"})


def anonymous_progress(client):
    quiz, _, right = factories.quiz_with_every_kind()
    other_lesson = factories.LessonFactory(module=quiz.lesson.module)
    take_quiz(client, quiz, right)
    client.post(reverse("journeys:lesson_complete", args=[other_lesson.pk]))
    assert QuizAttempt.objects.filter(user=None).count() == 1
    assert LessonProgress.objects.filter(user=None, completed_at__isnull=False).count() == 2
    return quiz, other_lesson


def test_signup_creates_an_account_and_keeps_anonymous_progress(client):
    quiz, other_lesson = anonymous_progress(client)
    response = client.post(
        reverse("journeys:signup"),
        {"username": "ada", "email": "ada@example.com", "password1": "k8s-is-fun-2026", "password2": "k8s-is-fun-2026"},
    )
    assert response.status_code == 302
    ada = User.objects.get(username="ada")
    assert QuizAttempt.objects.get().user == ada
    assert set(LessonProgress.objects.filter(user=ada).values_list("lesson_id", flat=True)) == {
        quiz.lesson_id,
        other_lesson.pk,
    }
    assert not LessonProgress.objects.filter(user=None).exists()
    dashboard = client.get(reverse("journeys:dashboard")).content.decode()
    assert "2 of 2 lessons complete" in dashboard


def test_login_merges_anonymous_progress_into_an_existing_account(client, user):
    factories.LessonFactory()  # unrelated lesson, untouched
    _, other_lesson = anonymous_progress(client)
    earlier = LessonProgress.objects.get(lesson=other_lesson).completed_at
    LessonProgress.objects.create(
        user=user, lesson=other_lesson, completed_at=earlier.replace(year=2030), completed_via="lab"
    )
    response = client.post(reverse("login"), {"username": user.username, "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert QuizAttempt.objects.get().user == user
    merged = LessonProgress.objects.get(user=user, lesson=other_lesson)
    assert merged.completed_at == earlier and merged.completed_via == "manual"  # the earliest completion wins
    assert LessonProgress.objects.filter(user=user).count() == 2
    assert not LessonProgress.objects.filter(user=None).exists()


def test_signup_rejects_bad_input_with_400_and_creates_nothing(client):
    factories.UserFactory(username="taken", email="taken@example.com")
    response = client.post(
        reverse("journeys:signup"),
        {"username": "new", "email": "TAKEN@example.com", "password1": "x", "password2": "y"},
    )
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert not User.objects.filter(username="new").exists()


def test_logout_is_a_post(client, user):
    client.force_login(user)
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_and_reset_by_console_email(client, user):
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "correct-horse-battery",
            "new_password1": "n3w-Passw0rd-k8s",
            "new_password2": "n3w-Passw0rd-k8s",
        },
    )
    assert response.status_code == 302
    client.logout()
    client.post(reverse("password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/account/reset/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "An0ther-pass-k8s", "new_password2": "An0ther-pass-k8s"}
    )
    assert response.status_code == 302
    # The sign-in limits count per request, so authenticating needs one, even outside a view.
    assert client.login(request=HttpRequest(), username=user.username, password="An0ther-pass-k8s")


def test_data_export_contains_only_the_learners_own_records(client, user):
    quiz, _, right = factories.quiz_with_every_kind()
    client.force_login(user)
    take_quiz(client, quiz, right)
    stranger = factories.UserFactory()
    factories.LessonFactory()
    LessonProgress.objects.create(user=stranger, lesson=quiz.lesson, completed_via="manual")
    Certificate.objects.create(user=user, journey=quiz.journey, code="mine", learner_name="Ada King Lovelace")
    Certificate.objects.create(user=stranger, journey=quiz.journey, code="theirs", learner_name="Someone Else")
    response = client.get(reverse("journeys:data_export"))
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["account"]["username"] == user.username
    assert len(data["quiz_attempts"]) == 1 and data["quiz_attempts"][0]["passed"] is True
    assert [row["lesson"] for row in data["lesson_progress"]] == [quiz.lesson.slug]
    assert [(row["code"], row["learner_name"]) for row in data["certificates"]] == [("mine", "Ada King Lovelace")]
    assert stranger.username not in response.content.decode() and "Someone Else" not in response.content.decode()


def test_account_delete_needs_the_password_then_removes_everything(client, user):
    quiz, _, right = factories.quiz_with_every_kind()
    client.force_login(user)
    take_quiz(client, quiz, right)
    Certificate.objects.create(user=user, journey=quiz.journey, code="abc", learner_name="x")
    response = client.post(reverse("journeys:account_delete"), {"password": "wrong"})
    assert response.status_code == 400 and User.objects.filter(pk=user.pk).exists()
    response = client.post(reverse("journeys:account_delete"), {"password": "correct-horse-battery"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not QuizAttempt.objects.exists() and not LessonProgress.objects.exists() and not Certificate.objects.exists()


# --- Privacy: every URL that carries an id, tried with another learner's id ---


def test_attempt_pages_of_other_learners_are_404(client, user):
    quiz, _, right = factories.quiz_with_every_kind()
    owner = factories.UserFactory()
    client.force_login(owner)
    take_quiz(client, quiz, right)
    attempt = QuizAttempt.objects.get()
    assert client.get(attempt.get_absolute_url()).status_code == 200
    client.force_login(user)
    assert client.get(attempt.get_absolute_url()).status_code == 404
    client.logout()
    assert client.get(attempt.get_absolute_url()).status_code == 404


def test_anonymous_attempts_are_private_to_their_session(client):
    quiz, _, right = factories.quiz_with_every_kind()
    take_quiz(client, quiz, right)
    attempt = QuizAttempt.objects.get()
    client.cookies.clear()
    assert client.get(attempt.get_absolute_url()).status_code == 404


def test_a_stolen_form_token_cannot_read_another_learners_attempt(client, user):
    quiz, _, right = factories.quiz_with_every_kind()
    owner = factories.UserFactory()
    client.force_login(owner)
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    token = TOKEN.search(page).group(1)
    client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": token})
    client.force_login(user)
    response = client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": token})
    assert response.status_code == 403
    assert QuizAttempt.objects.count() == 1 and QuizAttempt.objects.get().user == owner


def test_marking_a_lesson_complete_only_touches_the_learners_own_progress(client, user):
    lesson = factories.LessonFactory()
    other = factories.UserFactory()
    LessonProgress.objects.create(user=other, lesson=lesson)
    client.force_login(user)
    client.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    assert LessonProgress.objects.get(user=other).completed_at is None
    assert LessonProgress.objects.get(user=user).completed_at is not None


def test_certificate_page_needs_an_account(client):
    journey = factories.JourneyFactory()
    response = client.get(reverse("journeys:certificate", args=[journey.slug]))
    assert response.status_code == 302 and "/account/login/" in response["Location"]


@pytest.mark.parametrize(
    ("next_url", "expected"), [("/glossary/", "/glossary/"), ("https://evil.example/", "/dashboard/")]
)
def test_signup_only_redirects_to_this_site(client, next_url, expected):
    data = {
        "username": "newbie",
        "email": "n@example.com",
        "password1": "k8s-is-fun-2026",
        "password2": "k8s-is-fun-2026",
    }
    response = client.post(reverse("journeys:signup"), {**data, "next": next_url})
    assert response.status_code == 302 and response["Location"] == expected
