"""The home page: a landing page for a learner, built from the database in a fixed number of queries."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from journeys.curriculum.landing import next_action
from journeys.curriculum.selectors import journey_outline_for_user
from journeys.learners import Learner
from journeys.models import Journey, Lesson
from journeys.progress import services
from journeys.sandbox.labs import labs_for_lesson
from journeys.templatetags.journey_tags import reading_time
from tests import factories


def complete(user, *lessons):
    for lesson in lessons:
        services.lesson_complete(learner=Learner(user=user), lesson_id=lesson.pk)


def test_a_new_visitor_sees_what_the_journey_covers_and_where_to_start(client, curriculum):
    content = client.get("/").content.decode()
    journey = Journey.objects.get()
    lessons = list(Lesson.objects.in_outline_order())
    assert '<h1 id="landing-title">Run your apps on Kubernetes the way production teams do</h1>' in content
    assert "Learn Kubernetes by building it" not in content
    assert f'href="{lessons[0].get_absolute_url()}">Start the journey</a>' in content
    assert f'href="{journey.get_absolute_url()}">See the whole outline</a>' in content
    for module in journey.modules.all():
        assert f"<h3>{escape(module.title)}</h3>" in content
    for lesson in lessons:
        assert f'<a href="{lesson.get_absolute_url()}">{escape(lesson.title)}</a>' in content
    labs = sum(bool(labs_for_lesson(lesson.slug)) for lesson in lessons)
    assert labs > 0 and content.count('<span class="tag">lab</span>') == labs
    minutes = reading_time(sum(lesson.minutes for lesson in lessons))
    assert f"{len(lessons)} lessons, {labs} with a lab · about {minutes} of study" in content
    assert f"checked against Kubernetes {journey.kubernetes_version}" in content
    for feature in (
        "Labs checked in your own namespace",
        "Quizzes that read kubectl",
        "A production reviewer’s advice",
        "A certificate you can share",
    ):
        assert feature in content
    assert "you have completed" not in content


def test_a_returning_learner_continues_after_the_last_lesson_they_completed(client, curriculum, user):
    lessons = list(Lesson.objects.in_outline_order())
    complete(user, lessons[0], lessons[1])
    client.force_login(user)
    content = client.get("/").content.decode()
    assert f'href="{lessons[2].get_absolute_url()}">Continue where you left off: {lessons[2].title}</a>' in content
    assert f"you have completed 2 of {len(lessons)}" in content
    assert "Start the journey" not in content


def test_the_next_lesson_skips_what_is_done_and_comes_back_for_what_was_skipped(db):
    journey = factories.JourneyFactory()
    module = factories.ModuleFactory(journey=journey)
    lessons = [factories.LessonFactory(module=module) for _ in range(4)]
    outline = journey_outline_for_user(user=factories.UserFactory(), journey=journey)
    ids = [lesson.id for lesson in lessons]

    def goes_to(*done):
        return next_action(outline, {ids[index] for index in done})

    assert goes_to().label == "Start the journey" and goes_to().url == lessons[0].get_absolute_url()
    assert goes_to(0, 2).url == lessons[3].get_absolute_url()
    assert goes_to(0, 2, 3).url == lessons[1].get_absolute_url()
    finished = goes_to(0, 1, 2, 3)
    assert finished.url == reverse("journeys:dashboard") and "certificate" in finished.label


def test_reading_time_reads_as_a_person_says_it():
    assert [reading_time(value) for value in (0, 45, 60, 200, None)] == [
        "0 min",
        "45 min",
        "1 h",
        "3 h 20 min",
        "0 min",
    ]


def test_without_a_journey_the_page_says_how_to_load_one(client, db):
    content = client.get("/").content.decode()
    assert "No journey is published yet" in content and "Start the journey" not in content


def build_journey(lessons):
    journey = factories.JourneyFactory()
    modules = [factories.ModuleFactory(journey=journey) for _ in range(2)]
    return [factories.LessonFactory(module=modules[index % 2]) for index in range(lessons)]


# Journeys, then (until the outline is cached) the journey's lessons and its modules.
@pytest.mark.parametrize("lessons", [3, 15])
def test_home_query_count_does_not_grow_with_lessons(client, db, django_assert_num_queries, lessons):
    build_journey(lessons)
    with django_assert_num_queries(3):
        assert client.get("/").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/").status_code == 200


# A signed-in learner adds their session, their user and their completed lessons.
@pytest.mark.parametrize("lessons", [3, 15])
def test_home_query_count_for_a_returning_learner(client, db, django_assert_num_queries, user, lessons):
    created = build_journey(lessons)
    complete(user, *created[:2])
    client.force_login(user)
    client.get("/")
    with django_assert_num_queries(4):
        assert client.get("/").status_code == 200
