"""Progress: marking lessons complete, progress bars, the dashboard and the certificate rules."""

import re

import pytest
from django.urls import reverse

from journeys.models import Certificate, LessonProgress, QuizAttempt
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def journey_with_lessons():
    journey = factories.JourneyFactory()
    module = factories.ModuleFactory(journey=journey)
    lessons = [factories.LessonFactory(module=module, order=index) for index in range(3)]
    return journey, lessons


def test_mark_complete_with_htmx_updates_button_and_progress_bar(client, journey_with_lessons):
    _, lessons = journey_with_lessons
    url = reverse("journeys:lesson_complete", args=[lessons[0].pk])
    response = client.post(url, headers={"HX-Request": "true"})
    content = response.content.decode()
    assert "You have completed this lesson." in content
    assert 'id="journey-progress"' in content and 'hx-swap-oob="true"' in content
    assert "1 of 3 lessons (33%)" in content
    undo = client.post(url, {"undo": "1"}, headers={"HX-Request": "true"}).content.decode()
    assert "Mark this lesson as complete" in undo and "0 of 3 lessons (0%)" in undo


def test_mark_complete_without_javascript_redirects_back(client, journey_with_lessons):
    _, lessons = journey_with_lessons
    response = client.post(reverse("journeys:lesson_complete", args=[lessons[1].pk]))
    assert response.status_code == 302 and response["Location"] == lessons[1].get_absolute_url()
    page = client.get(lessons[1].get_absolute_url()).content.decode()
    assert "You have completed this lesson." in page and "1 of 3 lessons (33%)" in page


def test_journey_page_shows_progress_and_checkmarks(client, journey_with_lessons):
    journey, lessons = journey_with_lessons
    client.post(reverse("journeys:lesson_complete", args=[lessons[2].pk]))
    page = client.get(journey.get_absolute_url()).content.decode()
    assert "Your progress: 1 of 3 lessons (33%)" in page
    assert page.count("(completed)") == 1


def test_completing_an_unpublished_lesson_is_404(client, journey_with_lessons):
    _, lessons = journey_with_lessons
    lessons[0].is_published = False
    lessons[0].save()
    assert client.post(reverse("journeys:lesson_complete", args=[lessons[0].pk])).status_code == 404
    assert not LessonProgress.objects.exists()


def test_dashboard_continue_and_next_steps(client, user):
    quiz, questions, right = factories.quiz_with_every_kind()
    second = factories.LessonFactory(module=quiz.lesson.module, order=quiz.lesson.order + 1)
    client.force_login(user)
    dashboard = client.get(reverse("journeys:dashboard")).content.decode()
    assert f"Start “{quiz.lesson.title}”" in dashboard

    client.get(second.get_absolute_url())
    dashboard = client.get(reverse("journeys:dashboard")).content.decode()
    assert "Continue where you left off" in dashboard and second.title in dashboard
    assert f"Finish “{second.title}”" in dashboard

    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    wrong = {**right, f"q{questions['short'].id}": "Always", f"q{questions['kubectl'].id}": "kubectl get svc"}
    client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**wrong, "token": TOKEN.search(page).group(1)})
    dashboard = client.get(reverse("journeys:dashboard")).content.decode()
    assert f"Retry the quiz on “{quiz.lesson.title}”" in dashboard
    assert "Recent activity" in dashboard and "Tried" in dashboard
    assert "Quiz history" in dashboard and "67%" in dashboard


@pytest.mark.parametrize("attempts", [1, 8])
def test_dashboard_query_count_is_constant(client, user, django_assert_num_queries, attempts):
    quiz, _, right = factories.quiz_with_every_kind()
    for _ in range(5):
        factories.LessonFactory(module=quiz.lesson.module)
    client.force_login(user)
    for _ in range(attempts):
        page = client.get(quiz.lesson.get_absolute_url()).content.decode()
        client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**right, "token": TOKEN.search(page).group(1)})
    # session, user, journeys, lessons, progress, attempts, final assessments, certificates
    with django_assert_num_queries(8):
        assert client.get(reverse("journeys:dashboard")).status_code == 200


# --- Certificate ---


def final_for(journey):
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, title="Final assessment")
    factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["yes"])
    return final


def pass_final(client, final):
    page = client.get(reverse("journeys:assessment", args=[final.journey.slug])).content.decode()
    qid = re.search(r'name="q(\d+)"', page).group(1)
    client.post(
        reverse("journeys:quiz_submit", args=[final.pk]), {"token": TOKEN.search(page).group(1), f"q{qid}": "yes"}
    )


def test_certificate_needs_every_lesson_and_the_final_assessment(client, user, journey_with_lessons):
    journey, lessons = journey_with_lessons
    final = final_for(journey)
    client.force_login(user)
    url = reverse("journeys:certificate", args=[journey.slug])

    pass_final(client, final)
    page = client.get(url).content.decode()
    assert "Lessons still to complete" in page and not Certificate.objects.exists()

    for lesson in lessons[:2]:
        client.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    assert lessons[2].title in client.get(url).content.decode()

    client.post(reverse("journeys:lesson_complete", args=[lessons[2].pk]))
    response = client.get(url)
    certificate = Certificate.objects.get()
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()
    assert client.get(url)["Location"] == certificate.get_absolute_url()  # issued once
    assert Certificate.objects.count() == 1


def test_certificate_needs_a_passed_final(client, user, journey_with_lessons):
    journey, lessons = journey_with_lessons
    final_for(journey)
    client.force_login(user)
    for lesson in lessons:
        client.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    page = client.get(reverse("journeys:certificate", args=[journey.slug])).content.decode()
    assert "Take the final assessment" in page and not Certificate.objects.exists()
    assert QuizAttempt.objects.count() == 0


def test_verification_link_is_public_and_unknown_codes_are_404(client, user, journey_with_lessons):
    journey, _ = journey_with_lessons
    certificate = Certificate.objects.create(user=user, journey=journey, code="c0ffee", learner_name="Ada Lovelace")
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert "Ada Lovelace" in page and journey.title in page and "This certificate is genuine" in page
    assert client.get(reverse("journeys:certificate_verify", args=["nope"])).status_code == 404
