"""Progress: marking lessons complete, progress bars, the dashboard and the certificate rules."""

import re
from datetime import timedelta

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
    assert "1 of 3 lessons complete" in content
    undo = client.post(url, {"undo": "1"}, headers={"HX-Request": "true"}).content.decode()
    assert "Mark this lesson as complete" in undo and "0 of 3 lessons complete" in undo


def test_mark_complete_without_javascript_redirects_back(client, journey_with_lessons):
    _, lessons = journey_with_lessons
    response = client.post(reverse("journeys:lesson_complete", args=[lessons[1].pk]))
    assert response.status_code == 302 and response["Location"] == lessons[1].get_absolute_url()
    page = client.get(lessons[1].get_absolute_url()).content.decode()
    assert "You have completed this lesson." in page and "1 of 3 lessons complete" in page


def test_journey_page_shows_progress_and_checkmarks(client, journey_with_lessons):
    journey, lessons = journey_with_lessons
    client.post(reverse("journeys:lesson_complete", args=[lessons[2].pk]))
    page = client.get(journey.get_absolute_url()).content.decode()
    assert "Your progress: 1 of 3 lessons complete" in page
    assert page.count("(complete)") == 1


def test_completing_an_unpublished_lesson_is_404(client, journey_with_lessons):
    _, lessons = journey_with_lessons
    lessons[0].is_published = False
    lessons[0].save()
    assert client.post(reverse("journeys:lesson_complete", args=[lessons[0].pk])).status_code == 404
    assert not LessonProgress.objects.exists()


NEXT_STEP = re.compile(
    r'<div class="next-step">\s*<p><strong>Next step:</strong>(.*?)</p>\s*<a class="button" href="([^"]+)">(.*?)</a>',
    re.S,
)


def next_steps(page):
    """(text, href, button text) of each journey's next step on the dashboard."""
    return [
        (re.sub(r"\s+", " ", text).strip(), url, re.sub(r"<[^>]+>.*", "", action).strip())
        for text, url, action in NEXT_STEP.findall(page)
    ]


def test_dashboard_names_one_next_step_from_where_the_learner_was(client, user):
    quiz, questions, right = factories.quiz_with_every_kind()
    first = quiz.lesson
    second = factories.LessonFactory(module=first.module, order=first.order + 1)
    third = factories.LessonFactory(module=first.module, order=first.order + 2)
    client.force_login(user)
    dashboard = reverse("journeys:dashboard")
    assert next_steps(client.get(dashboard).content.decode()) == [
        (f"Start “{first.title}”.", first.get_absolute_url(), "Start the lesson")
    ]

    client.get(second.get_absolute_url())
    assert next_steps(client.get(dashboard).content.decode()) == [
        (f"Continue “{second.title}”.", second.get_absolute_url(), "Continue")
    ]

    page = client.get(first.get_absolute_url()).content.decode()
    wrong = {**right, f"q{questions['short'].id}": "Always", f"q{questions['kubectl'].id}": "kubectl get svc"}
    client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**wrong, "token": TOKEN.search(page).group(1)})
    page = client.get(dashboard).content.decode()
    [(text, url, action)] = next_steps(page)
    assert text.startswith(f"Continue “{first.title}”: you scored 67% on its quiz last time.")
    assert (url, action) == (f"{first.get_absolute_url()}#quiz", "Continue")
    assert "Recent activity" in page and "Tried" in page
    assert "Quiz history" in page and "67%" in page

    # The lesson they were at is complete: on to the first one after it that is not, never "Continue" it.
    client.post(reverse("journeys:lesson_complete", args=[second.pk]))
    assert next_steps(client.get(dashboard).content.decode()) == [
        (f"Start “{third.title}”.", third.get_absolute_url(), "Start the lesson")
    ]
    client.post(reverse("journeys:lesson_complete", args=[third.pk]))
    assert next_steps(client.get(dashboard).content.decode()) == [
        (
            f"Continue “{first.title}”: you scored 67% on its quiz last time. "
            "Your answers are kept, so only the ones marked need another look.",
            f"{first.get_absolute_url()}#quiz",
            "Continue",
        )
    ], "wrapping round to the one left before"


def test_at_one_hundred_percent_the_dashboard_leads_to_the_assessment_then_the_certificate(client, user):
    journey = factories.JourneyFactory()
    lessons = [factories.LessonFactory(module=factories.ModuleFactory(journey=journey)) for _ in range(2)]
    final = final_for(journey)
    client.force_login(user)
    for lesson in lessons:
        client.get(lesson.get_absolute_url())
        client.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    dashboard = reverse("journeys:dashboard")
    page = client.get(dashboard).content.decode()
    assert next_steps(page) == [
        (
            "Take the final assessment: every lesson is complete.",
            reverse("journeys:assessment", args=[journey.slug]),
            "Take the assessment",
        )
    ]
    assert "Continue" not in page

    pass_final(client, final)
    page = client.get(dashboard).content.decode()
    assert next_steps(page) == [
        (
            "You have completed this journey. Your certificate is ready.",
            reverse("journeys:certificate", args=[journey.slug]),
            "Get your certificate",
        )
    ]
    client.get(reverse("journeys:certificate", args=[journey.slug]))
    certificate = Certificate.objects.get()
    page = client.get(dashboard).content.decode()
    assert next_steps(page) == [
        ("You have completed this journey. Well done!", certificate.get_absolute_url(), "See your certificate")
    ]
    assert "Continue" not in page


def test_a_visitor_who_finished_is_asked_to_create_an_account_for_the_certificate(client):
    lesson = factories.LessonFactory()
    client.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    [(text, url, action)] = next_steps(client.get(reverse("journeys:dashboard")).content.decode())
    assert action == "Create an account" and "get your certificate" in text
    certificate = reverse("journeys:certificate", args=[lesson.journey.slug])
    assert url == f"{reverse('journeys:signup')}?next={certificate}"


def activity(page):
    section = page[page.index('<ul class="activity">') : page.index("</ul>", page.index('<ul class="activity">'))]
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", section, re.S)]


def test_recent_activity_says_the_latest_thing_done_once_per_lesson(client, user):
    quiz, questions, right = factories.quiz_with_every_kind()
    other = factories.LessonFactory(module=quiz.lesson.module, order=quiz.lesson.order + 1, title="Jobs")
    client.force_login(user)
    wrong = {**right, f"q{questions['short'].id}": "Always", f"q{questions['kubectl'].id}": "kubectl get svc"}
    for data in (wrong, wrong, right):
        page = client.get(quiz.lesson.get_absolute_url()).content.decode()
        client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), {**data, "token": TOKEN.search(page).group(1)})
    client.post(reverse("journeys:lesson_complete", args=[other.pk]))
    lines = activity(client.get(reverse("journeys:dashboard")).content.decode())
    title = quiz.lesson.title
    assert lines == [
        "Completed “Jobs” (marked complete) just now",
        f"Completed “{title}”: passed its quiz with 100% just now",
    ]
    assert "0 minutes" not in " ".join(lines)


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


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (-30, "just now"),  # another server's clock a little ahead
        (0, "just now"),
        (59, "just now"),
        (60, "a minute ago"),
        (119, "a minute ago"),
        (120, "2 minutes ago"),
        (59 * 60 + 59, "59 minutes ago"),
        (3600, "an hour ago"),
        (5 * 3600, "5 hours ago"),
        (86400, "a day ago"),
        (3 * 86400, "3 days ago"),
    ],
)
def test_how_long_ago_is_said_as_a_person_says_it(seconds, said):
    from django.utils import timezone

    from journeys.templatetags.journey_tags import ago

    assert ago(timezone.now() - timedelta(seconds=seconds)) == said


def test_long_ago_is_a_date():
    from django.utils import timezone

    from journeys.templatetags.journey_tags import ago

    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", ago(timezone.now() - timedelta(days=45)))


def test_a_certificate_already_issued_is_the_next_step_even_after_an_assessment_was_added(client, user):
    journey = factories.JourneyFactory()
    lesson = factories.LessonFactory(module=factories.ModuleFactory(journey=journey))
    client.force_login(user)
    client.post(reverse("journeys:lesson_complete", args=[lesson.pk]))
    certificate = Certificate.objects.create(user=user, journey=journey, code="c0ffee", learner_name="Ada")
    final_for(journey)  # added by an author afterwards
    assert next_steps(client.get(reverse("journeys:dashboard")).content.decode()) == [
        ("You have completed this journey. Well done!", certificate.get_absolute_url(), "See your certificate")
    ]
