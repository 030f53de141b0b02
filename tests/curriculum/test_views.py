"""The learner-facing pages: content, visibility of drafts, and query counts (search: test_search.py)."""

import pytest
from django.urls import reverse

from journeys.models import GlossaryTerm, Journey, Lesson, Quiz
from tests import factories

JOURNEY_URL = "/journeys/intermediate-app-developer/"


@pytest.fixture
def statefulsets(curriculum):
    return Lesson.objects.get(slug="statefulsets")


def test_journey_page_shows_modules_lessons_and_minutes(client, curriculum):
    response = client.get(JOURNEY_URL)
    assert response.status_code == 200
    content = response.content.decode()
    for lesson in Lesson.objects.all():
        assert f'href="{lesson.get_absolute_url()}"' in content
    for module in Journey.objects.get().modules.all():
        assert f'id="module-{module.slug}"' in content
    assert "Workload patterns beyond Deployments" in content


def test_lesson_page_has_breadcrumb_toc_code_glossary_and_pager(client, statefulsets):
    response = client.get(statefulsets.get_absolute_url())
    assert response.status_code == 200
    content = response.content.decode()
    assert 'aria-label="Breadcrumb"' in content
    assert f'<a href="{JOURNEY_URL}">Intermediate App Developer</a>' in content
    assert 'aria-current="page">StatefulSets</span>' in content
    assert "On this page" in content
    for entry in statefulsets.toc:
        assert f'href="#{entry["id"]}"' in content
        assert f'id="{entry["id"]}"' in content
    assert '<div class="highlight">' in content
    assert 'class="gloss-term"' in content and 'role="tooltip"' in content
    assert 'rel="prev"' in content and 'rel="next"' in content
    assert "In this lesson you will" in content and "Key takeaways" in content
    for objective in statefulsets.objectives:
        assert objective.replace("'", "&#x27;").replace('"', "&quot;") in content


def test_first_and_last_lessons_have_sensible_pager(client, curriculum):
    lessons = list(Lesson.objects.in_outline_order())
    first = client.get(lessons[0].get_absolute_url()).content.decode()
    last = client.get(lessons[-1].get_absolute_url()).content.decode()
    assert 'rel="prev"' not in first and f'href="{lessons[1].get_absolute_url()}" rel="next"' in first
    assert 'rel="next"' not in last and "Back to the journey" in last


def test_unpublished_lesson_is_404_for_learners_and_visible_to_staff(client, statefulsets, user, staff_user):
    statefulsets.is_published = False
    statefulsets.save()
    url = statefulsets.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(user)
    assert client.get(url).status_code == 404
    assert f'href="{url}"' not in client.get(JOURNEY_URL).content.decode()
    client.force_login(staff_user)
    response = client.get(url)
    assert response.status_code == 200
    assert "Draft" in response.content.decode()


def test_unpublished_journey_hides_its_lessons_from_learners(client, statefulsets, staff_user):
    Journey.objects.update(is_published=False)
    assert client.get(JOURNEY_URL).status_code == 404
    assert client.get(statefulsets.get_absolute_url()).status_code == 404
    assert "Intermediate App Developer" not in client.get("/").content.decode()
    client.force_login(staff_user)
    assert client.get(JOURNEY_URL).status_code == 200


def test_unknown_pages_are_404(client, curriculum):
    assert client.get("/journeys/nope/").status_code == 404
    assert client.get(f"{JOURNEY_URL}nope/").status_code == 404


def test_pages_refuse_post(client, curriculum):
    assert client.post(JOURNEY_URL).status_code == 405


def test_glossary_lists_every_term_with_an_anchor(client, curriculum):
    content = client.get(reverse("journeys:glossary")).content.decode()
    for term in GlossaryTerm.objects.all():
        assert f'id="{term.slug}"' in content
        assert term.get_absolute_url() == f"/glossary/#{term.slug}"


def test_glossary_links_each_term_to_the_official_documentation(client, curriculum):
    content = client.get(reverse("journeys:glossary")).content.decode()
    for term in GlossaryTerm.objects.all():
        assert f'<a href="{term.docs_url}" rel="external noopener">' in content, term.slug
    assert ">Pod in the Kubernetes documentation</a>" in content
    assert ">Helm chart in the Helm documentation</a>" in content


def test_a_term_without_a_documentation_link_shows_no_empty_link(client, curriculum):
    GlossaryTerm.objects.filter(slug="pod").update(docs_url="")
    content = client.get(reverse("journeys:glossary")).content.decode()
    assert ">Pod in the" not in content and 'href=""' not in content


def test_journey_and_lesson_pages_state_the_kubernetes_version(client, statefulsets):
    version = Journey.objects.get().kubernetes_version
    assert version
    journey_page = client.get(JOURNEY_URL).content.decode()
    assert f"checked against the documentation of Kubernetes {version}." in journey_page
    lesson_page = client.get(statefulsets.get_absolute_url()).content.decode()
    assert f"Checked against Kubernetes {version}" in lesson_page
    Journey.objects.update(kubernetes_version="")
    assert "checked against" not in client.get(JOURNEY_URL).content.decode().lower()


def test_every_learner_visible_model_has_an_absolute_url(client, curriculum):
    journey = Journey.objects.get()
    module = journey.modules.first()
    lesson = Lesson.objects.first()
    assert client.get(journey.get_absolute_url()).status_code == 200
    assert module.get_absolute_url() == f"{JOURNEY_URL}#module-{module.slug}"
    assert client.get(lesson.get_absolute_url()).status_code == 200


# --- Health ---


def test_health_endpoints(client, db):
    assert client.get("/healthz").content == b"ok\n"
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["database"] == "ok"


# --- Query counts stay constant as the journey grows ---


def build_journey(lessons):
    journey = factories.JourneyFactory()
    modules = [factories.ModuleFactory(journey=journey) for _ in range(2)]
    created = [factories.LessonFactory(module=modules[index % 2]) for index in range(lessons)]
    return journey, created


# Anonymous reader: lesson, outline lessons, modules, quiz lookup.
@pytest.mark.parametrize("lessons", [3, 15])
def test_lesson_page_query_count_does_not_grow_with_lessons(client, db, django_assert_num_queries, lessons):
    _, created = build_journey(lessons)
    with django_assert_num_queries(4):
        assert client.get(created[1].get_absolute_url()).status_code == 200


@pytest.mark.parametrize("lessons", [3, 15])
def test_warm_lesson_page_reads_the_outline_and_quiz_from_the_cache(client, db, django_assert_num_queries, lessons):
    _, created = build_journey(lessons)
    client.get(created[1].get_absolute_url())
    with django_assert_num_queries(2):  # another lesson: the lesson itself and its quiz lookup
        assert client.get(created[2].get_absolute_url()).status_code == 200
    with django_assert_num_queries(0):  # a lesson read before: the whole page comes from the cache
        assert client.get(created[2].get_absolute_url()).status_code == 200


def test_cached_outline_follows_admin_changes(client, curriculum):
    lesson = Lesson.objects.get(slug="jobs")
    assert f'href="{lesson.get_absolute_url()}"' in client.get(JOURNEY_URL).content.decode()
    Lesson.objects.filter(pk=lesson.pk).update(is_published=False)  # as the admin action does
    assert f'href="{lesson.get_absolute_url()}"' not in client.get(JOURNEY_URL).content.decode()
    lesson.is_published = True
    lesson.title = "Jobs, renamed"
    lesson.save()
    assert "Jobs, renamed" in client.get(JOURNEY_URL).content.decode()


@pytest.mark.parametrize("lessons", [3, 15])
def test_journey_page_query_count_does_not_grow_with_lessons(client, db, django_assert_num_queries, lessons):
    journey, _ = build_journey(lessons)
    # The journey, and the outline's lessons and modules (which also say whether there is a final
    # assessment); a reader with no session has no progress to read.
    with django_assert_num_queries(3):
        assert client.get(journey.get_absolute_url()).status_code == 200


# --- The journey's outline beside a lesson ---


def outline_of(page):
    return page.split('aria-label="All lessons in this journey"')[1].split("</nav>")[0]


def test_the_outline_lists_labs_by_title_quizzes_and_the_final_assessment(client, statefulsets):
    outline = outline_of(client.get(statefulsets.get_absolute_url()).content.decode())
    url = statefulsets.get_absolute_url()
    assert f'<a href="{url}#lab-stateful-web">Lab: A StatefulSet with stable names and storage</a>' in outline
    assert "Lab: stateful-web" not in outline
    assert f'<a href="{url}#quiz">Quiz</a>' in outline
    assert outline.count(">Quiz</a>") == Lesson.objects.filter(quiz__isnull=False).count()
    assert "Break and fix: Fix a hardened web server that crashes</a>" in outline
    assert outline.rstrip().endswith(f'<a href="{JOURNEY_URL}assessment/">Final assessment</a></p>')


def test_the_outline_marks_the_current_lesson_and_the_complete_ones(client, user, statefulsets):
    client.force_login(user)
    jobs = Lesson.objects.get(slug="jobs")
    client.post(reverse("journeys:lesson_complete", args=[jobs.pk]))
    outline = outline_of(client.get(statefulsets.get_absolute_url()).content.decode())
    assert '<li class="outline__current">' in outline
    assert '<span aria-current="page">StatefulSets</span>' in outline
    assert outline.count('<span class="visually-hidden">(complete)</span>') == 1
    assert outline.split(">Jobs</a>")[1].lstrip().startswith('<span class="done-mark"')


def test_marking_a_lesson_complete_also_marks_it_in_the_outline(client, statefulsets):
    url = reverse("journeys:lesson_complete", args=[statefulsets.pk])
    swapped = client.post(url, headers={"HX-Request": "true"}).content.decode()
    assert '<span id="outline-current-mark" hx-swap-oob="true"> <span class="done-mark"' in swapped
    undone = client.post(url, {"undo": "1"}, headers={"HX-Request": "true"}).content.decode()
    assert '<span id="outline-current-mark" hx-swap-oob="true"></span>' in undone


def test_learners_see_no_draft_quiz_nor_final_assessment_in_the_outline(client, statefulsets):
    Quiz.objects.filter(lesson=statefulsets).update(is_published=False)
    Quiz.objects.filter(is_final=True).update(is_published=False)
    page = client.get(statefulsets.get_absolute_url()).content.decode()
    outline = outline_of(page)
    assert f'href="{statefulsets.get_absolute_url()}#quiz"' not in outline
    assert "Final assessment" not in outline
    assert "final assessment" not in client.get(JOURNEY_URL).content.decode()
