"""Django admin: editors change the curriculum and see it on the site at once."""

import pytest
from django.urls import reverse

from journeys.models import GlossaryTerm, Journey, Lesson, Module


@pytest.fixture
def admin_client_logged_in(client, staff_user, curriculum):
    client.force_login(staff_user)
    return client


def lesson_form_data(lesson, **changes):
    data = {
        "module": lesson.module_id,
        "title": lesson.title,
        "slug": lesson.slug,
        "order": lesson.order,
        "minutes": lesson.minutes,
        "is_published": "on" if lesson.is_published else "",
        "summary": lesson.summary,
        "objectives": "\n".join(lesson.objectives),
        "body": lesson.body,
        "takeaways": "\n".join(lesson.takeaways),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


@pytest.mark.parametrize("model", [Journey, Module, Lesson, GlossaryTerm])
def test_admin_lists_and_change_forms_open(admin_client_logged_in, model):
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert admin_client_logged_in.get(reverse(f"{prefix}_changelist")).status_code == 200
    obj = model.objects.first()
    assert admin_client_logged_in.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200
    assert admin_client_logged_in.get(reverse(f"{prefix}_add")).status_code == 200


def test_lesson_change_form_offers_a_preview_and_a_page_link(admin_client_logged_in):
    lesson = Lesson.objects.get(slug="jobs")
    content = admin_client_logged_in.get(reverse("admin:journeys_lesson_change", args=[lesson.pk])).content.decode()
    assert f'formaction="{reverse("admin:journeys_lesson_preview", args=[lesson.pk])}"' in content
    assert lesson.get_absolute_url() in content


def test_editing_a_lesson_in_admin_shows_on_the_site_at_once(admin_client_logged_in, client):
    lesson = Lesson.objects.get(slug="jobs")
    url = reverse("admin:journeys_lesson_change", args=[lesson.pk])
    body = lesson.body + "\r\n\r\n## Edited in admin\r\n\r\nA sentence added by an editor.\r\n"
    objectives = "Run a task to completion\r\nPick a job pattern"
    response = admin_client_logged_in.post(url, lesson_form_data(lesson, body=body, objectives=objectives))
    assert response.status_code == 302, response.content.decode()[:2000]
    lesson.refresh_from_db()
    assert "\r" not in lesson.body
    assert lesson.objectives == ["Run a task to completion", "Pick a job pattern"]
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert 'id="edited-in-admin"' in page
    assert "A sentence added by an editor." in page
    assert "Pick a job pattern" in page


def test_admin_rejects_links_to_unknown_lessons_and_terms(admin_client_logged_in):
    lesson = Lesson.objects.get(slug="jobs")
    url = reverse("admin:journeys_lesson_change", args=[lesson.pk])
    body = lesson.body + "\n\nSee [x](lesson:nowhere) and [[no-such-term]]."
    response = admin_client_logged_in.post(url, lesson_form_data(lesson, body=body))
    assert response.status_code == 200
    content = response.content.decode()
    assert "there is no lesson &#x27;nowhere&#x27; in this journey" in content
    assert "there is no glossary term &#x27;no-such-term&#x27;" in content
    lesson.refresh_from_db()
    assert "nowhere" not in lesson.body


def test_admin_rejects_a_duplicate_slug_in_the_journey(admin_client_logged_in):
    lesson = Lesson.objects.get(slug="jobs")
    url = reverse("admin:journeys_lesson_change", args=[lesson.pk])
    response = admin_client_logged_in.post(url, lesson_form_data(lesson, slug="cronjobs"))
    assert response.status_code == 200
    assert "already uses this slug" in response.content.decode()


def test_unpublishing_in_admin_hides_the_lesson_from_learners(admin_client_logged_in, client):
    lesson = Lesson.objects.get(slug="jobs")
    response = admin_client_logged_in.post(
        reverse("admin:journeys_lesson_changelist"),
        {"action": "unpublish", "_selected_action": [lesson.pk]},
    )
    assert response.status_code == 302
    client.logout()
    assert client.get(lesson.get_absolute_url()).status_code == 404


def test_editing_a_glossary_definition_updates_tooltips(admin_client_logged_in, client):
    term = GlossaryTerm.objects.get(slug="statefulset")
    url = reverse("admin:journeys_glossaryterm_change", args=[term.pk])
    response = admin_client_logged_in.post(
        url, {"slug": term.slug, "term": term.term, "definition": "Brand-new definition for tooltips."}
    )
    assert response.status_code == 302
    page = client.get(Lesson.objects.get(slug="statefulsets").get_absolute_url()).content.decode()
    assert "Brand-new definition for tooltips." in page


def test_learners_cannot_open_admin(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:journeys_lesson_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("name", ["lessonprogress", "quizattempt", "labrun", "sandboxassignment", "certificate"])
def test_learner_record_lists_open(admin_client_logged_in, name):
    from journeys.models import LabRun, LessonProgress

    lesson = Lesson.objects.first()
    LessonProgress.objects.create(anon_key="visitor", lesson=lesson)
    LabRun.objects.create(anon_key="visitor", lab_slug="batch-pi", lesson=lesson, source="file", outcome="fail")
    content = admin_client_logged_in.get(reverse(f"admin:journeys_{name}_changelist")).content.decode()
    assert "Select" in content
    if name in {"lessonprogress", "labrun"}:
        assert "anonymous visitor" in content


def test_every_admin_refuses_a_selection_that_names_no_rows():
    from django.contrib import admin

    from journeys.admin_selection import CheckedSelection

    unchecked = [type(model_admin).__name__ for model_admin in admin.site._registry.values()
                 if not isinstance(model_admin, CheckedSelection)]  # fmt: skip
    assert unchecked == []
    assert len(admin.site._registry) > 15  # the site's own and the third-party ones (sign-in attempts)


@pytest.mark.parametrize(
    "selected", [["abc"], [""], ["1e3"], ["1", "0x1"], ["1;DROP TABLE journeys_lesson"], ["1\x00"], ["9" * 400]]
)
def test_a_tampered_selection_is_a_400_and_deletes_nothing(admin_client_logged_in, selected):
    before = Lesson.objects.count()
    response = admin_client_logged_in.post(
        reverse("admin:journeys_lesson_changelist"),
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    assert response.status_code == 400
    assert "not a list of rows" in response.content.decode()
    assert Lesson.objects.count() == before


def test_a_real_selection_still_reaches_the_action(admin_client_logged_in):
    lesson = Lesson.objects.first()
    response = admin_client_logged_in.post(
        reverse("admin:journeys_lesson_changelist"), {"action": "delete_selected", "_selected_action": [lesson.pk]}
    )
    assert response.status_code == 200 and "Are you sure" in response.content.decode()
