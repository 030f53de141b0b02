"""Reports for teams and authors: cohort CSV and per-question statistics, through Django admin."""

import csv
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from journeys.models import Certificate, Question
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def submit(client, quiz, answers):
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**answers, "token": TOKEN.search(page).group(1)})


def test_cohort_progress_report_downloads_as_csv(client, staff_user):
    quiz, _, right = factories.quiz_with_every_kind()
    factories.LessonFactory(module=quiz.lesson.module)
    cohort = Group.objects.create(name="Spring cohort")
    ada, bob = factories.UserFactory(username="ada"), factories.UserFactory(username="=bob")
    cohort.user_set.add(ada, bob)
    client.force_login(ada)
    submit(client, quiz, right)
    Certificate.objects.create(user=ada, journey=quiz.journey, code="cert123", learner_name="Ada")

    client.force_login(staff_user)
    response = client.post(
        reverse("admin:auth_group_changelist"), {"action": "download_cohort_report", "_selected_action": [cohort.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["username"] for row in rows] == ["'=bob", "ada"]  # formula-looking cells are defused
    ada_row = rows[1]
    assert ada_row["cohort"] == "Spring cohort"
    assert (ada_row["lessons_completed"], ada_row["lessons_total"], ada_row["percent_complete"]) == ("1", "2", "50")
    assert ada_row["quizzes_passed"] == "1" and ada_row["certificate"] == "cert123"
    assert ada_row["last_activity"]
    assert rows[0]["lessons_completed"] == "0" and rows[0]["last_activity"] == ""


def test_question_statistics_show_weak_questions_first(client, staff_user):
    quiz, questions, right = factories.quiz_with_every_kind()
    deployment = questions["single"].choices.get(text="Deployment")
    for answer in [str(deployment.id), str(deployment.id), right[f"q{questions['single'].id}"]]:
        learner_client = client.__class__()
        learner_client.force_login(factories.UserFactory())
        submit(
            learner_client, quiz, {**right, f"q{questions['single'].id}": answer, f"q{questions['short'].id}": "Never"}
        )

    client.force_login(staff_user)
    page = client.get(reverse("admin:journeys_question_changelist")).content.decode()
    single_row = re.search(r"Which controller keeps Pod names stable\?.*?</tr>", page, re.S).group(0)
    assert ">3<" in single_row and ">33%<" in single_row and ">Deployment<" in single_row
    short_row = re.search(rf"/admin/journeys/question/{questions['short'].id}/change/.*?</tr>", page, re.S).group(0)
    assert ">0%<" in short_row and ">Never<" in short_row
    # Weakest first: the short answer nobody got right comes before the single choice.
    assert page.index(f"/admin/journeys/question/{questions['short'].id}/change/") < page.index(
        f"/admin/journeys/question/{questions['single'].id}/change/"
    )


def test_quiz_admin_shows_pass_rate_and_learner_progress_in_user_admin(client, staff_user):
    quiz, _, right = factories.quiz_with_every_kind()
    learner = factories.UserFactory()
    learner_client = client.__class__()
    learner_client.force_login(learner)
    submit(learner_client, quiz, right)
    client.force_login(staff_user)
    assert ">100%<" in client.get(reverse("admin:journeys_quiz_changelist")).content.decode()
    users = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "Lessons completed" in users
    detail = client.get(reverse("admin:auth_user_change", args=[learner.pk])).content.decode()
    assert quiz.lesson.title in detail


def test_admin_refuses_a_question_without_a_correct_choice(client, staff_user):
    question = factories.QuestionFactory(kind="single")
    client.force_login(staff_user)
    data = {
        "quiz": question.quiz_id, "order": 1, "kind": "single", "prompt": "p", "explanation": "e",
        "accepted_answers": "", "answer_pattern": "", "wrong_feedback": "",
        "choices-TOTAL_FORMS": 2, "choices-INITIAL_FORMS": 0,
        "choices-0-order": 1, "choices-0-text": "A", "choices-0-feedback": "no",
        "choices-1-order": 2, "choices-1-text": "B", "choices-1-feedback": "no",
    }  # fmt: skip
    response = client.post(reverse("admin:journeys_question_change", args=[question.pk]), data)
    assert response.status_code == 200
    assert "This question has no correct choice: tick Correct on the right one." in response.content.decode()
    data["choices-0-is_correct"] = "on"
    response = client.post(reverse("admin:journeys_question_change", args=[question.pk]), data)
    assert response.status_code == 302
    assert Question.objects.get(pk=question.pk).choices.filter(is_correct=True).count() == 1


def test_admin_refuses_a_kubectl_question_without_a_readable_command(client, staff_user):
    question = factories.QuestionFactory(kind="kubectl", accepted_answers=["kubectl get pods"])
    client.force_login(staff_user)
    data = {
        "quiz": question.quiz_id, "order": 1, "kind": "kubectl", "prompt": "p", "explanation": "e",
        "accepted_answers": "ls -la", "answer_pattern": "", "wrong_feedback": "",
        "choices-TOTAL_FORMS": 0, "choices-INITIAL_FORMS": 0,
    }  # fmt: skip
    response = client.post(reverse("admin:journeys_question_change", args=[question.pk]), data)
    assert response.status_code == 200 and "should start with kubectl" in response.content.decode()
