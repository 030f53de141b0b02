"""Authoring in admin: the Markdown editor, a preview of the unsaved text in the site's look, and a
question page that shows the fields of the question's kind."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from journeys.admin_forms import KIND_FIELDS, kind_field_groups
from journeys.models import Lesson, Question
from tests import factories

from .test_admin import lesson_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user, curriculum):
    client.force_login(staff_user)
    return client


@pytest.fixture
def jobs(curriculum):
    return Lesson.objects.get(slug="jobs")


def preview_url(lesson=None):
    if lesson is None:
        return reverse("admin:journeys_lesson_preview")
    return reverse("admin:journeys_lesson_preview", args=[lesson.pk])


# --- The editor ---


def test_the_lesson_text_is_a_tall_monospace_box(staff_client, jobs):
    content = staff_client.get(reverse("admin:journeys_lesson_change", args=[jobs.pk])).content.decode()
    box = re.search(r"<textarea [^>]*name=\"body\"[^>]*>", content).group(0)
    assert int(re.search(r'rows="(\d+)"', box).group(1)) >= 30
    assert 'class="markdown-editor"' in box
    assert "css/admin-authoring.css" in content
    css = (settings.BASE_DIR / "static" / "css" / "admin-authoring.css").read_text(encoding="utf-8")
    editor = re.search(r"\.markdown-editor \{(.*?)\}", css, re.S).group(1)
    assert "monospace" in editor and "resize: vertical" in editor


# --- The preview ---


def test_save_stays_the_forms_first_button_so_enter_saves(staff_client, jobs):
    content = staff_client.get(reverse("admin:journeys_lesson_change", args=[jobs.pk])).content.decode()
    assert content.index('name="_save"') < content.index(f'formaction="{preview_url(jobs)}"')


def test_the_preview_shows_the_unsaved_text_in_the_sites_look_and_saves_nothing(staff_client, jobs):
    before = (jobs.body, jobs.body_html, jobs.updated_at)
    body = jobs.body + "\n\n## Added in the editor\n\nA **new** paragraph.\n\n```yaml\nkind: Job\n```\n"
    response = staff_client.post(preview_url(jobs), lesson_form_data(jobs, body=body, title="Jobs, retitled"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "css/site.css" in page and "admin/css/base.css" not in page  # the site's look, not admin's
    assert 'class="prose"' in page and 'id="added-in-the-editor"' in page
    assert "A <strong>new</strong> paragraph." in page and '<div class="highlight">' in page
    assert '<h1 id="lesson-title">Jobs, retitled</h1>' in page
    assert "Preview — nothing has been saved." in page
    assert "no-store" in response["Cache-Control"]
    jobs.refresh_from_db()
    assert (jobs.body, jobs.body_html, jobs.updated_at) == before


def test_the_preview_names_what_saving_would_refuse_but_still_shows_the_text(staff_client, jobs):
    body = jobs.body + "\n\nSee [x](lesson:nowhere) and [[no-such-term]]."
    page = staff_client.post(preview_url(jobs), lesson_form_data(jobs, body=body)).content.decode()
    assert "Saving would be refused until you fix:" in page
    assert "there is no glossary term &#x27;no-such-term&#x27;" in page
    assert 'class="broken-link"' in page and "no-such-term" in page


def test_the_preview_sanitises_the_text(staff_client, jobs):
    body = 'Hello <script>alert(1)</script> <img src=x onerror="alert(2)"> [bad](javascript:alert(3))'
    page = staff_client.post(preview_url(jobs), lesson_form_data(jobs, body=body)).content.decode()
    prose = re.search(r'<div class="prose">(.*?)</div>', page, re.S).group(1)
    assert "<script" not in prose and "onerror" not in prose and "javascript:" not in prose


def test_a_new_lesson_can_be_previewed_before_its_first_save(staff_client):
    page = staff_client.post(preview_url(), {"title": "Brand new", "body": "# Hi\n\nSee [[pod]].\n"})
    assert page.status_code == 200
    content = page.content.decode()
    assert '<h1 id="lesson-title">Brand new</h1>' in content and 'class="gloss-term"' in content
    assert not Lesson.objects.filter(title="Brand new").exists()
    add_page = staff_client.get(reverse("admin:journeys_lesson_add")).content.decode()
    assert f'formaction="{preview_url()}"' in add_page


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"module": "garbage", "minutes": "-3", "order": "x" * 50},
        {"body": "nul\x00byte", "title": "\x00"},
        {"body": ["one", "two"], "objectives": "a\r\nb"},
    ],
)
def test_garbage_gets_a_preview_never_a_500(staff_client, jobs, data):
    assert staff_client.post(preview_url(jobs), data).status_code == 200


def test_a_huge_text_is_refused_with_413_and_a_reason(staff_client, jobs):
    response = staff_client.post(preview_url(jobs), lesson_form_data(jobs, body="x" * 200_001))
    assert response.status_code == 413
    assert "a preview shows at most 200,000" in response.content.decode()
    # Beyond what any lesson form sends, refused before the form is read.
    response = staff_client.post(preview_url(jobs), {"body": "y" * (1024 * 1024 + 1)})
    assert response.status_code == 413 and "The page sent more than" in response.content.decode()


def test_the_preview_is_for_staff_only(client, jobs):
    response = client.post(preview_url(jobs), {"body": "hi"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(factories.UserFactory())
    assert client.post(preview_url(jobs), {"body": "hi"}).status_code == 302


def test_staff_who_cannot_change_lessons_get_403(client, jobs):
    viewer = factories.UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_lesson"))
    client.force_login(viewer)
    assert client.post(preview_url(jobs), {"body": "hi"}).status_code == 403
    assert client.post(preview_url(), {"body": "hi"}).status_code == 403


def test_the_preview_needs_a_post_with_a_csrf_token(staff_user, jobs):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    assert client.get(preview_url(jobs)).status_code == 405
    assert client.post(preview_url(jobs), {"body": "hi"}).status_code == 403


def test_an_unknown_lesson_is_404(staff_client):
    assert staff_client.post(reverse("admin:journeys_lesson_preview", args=[987654]), {"body": "x"}).status_code == 404


# --- The question page ---


def test_each_field_is_used_by_the_kinds_its_help_names():
    assert kind_field_groups("single", {}) == (
        [],
        ["partial_credit", "accepted_answers", "answer_pattern", "wrong_feedback"],
    )
    assert kind_field_groups("short", {})[0] == ["accepted_answers", "answer_pattern", "wrong_feedback"]
    assert kind_field_groups("multiple", {})[0] == ["partial_credit"]
    assert kind_field_groups("kubectl", {})[0] == ["accepted_answers", "wrong_feedback"]
    assert kind_field_groups("", {})[1] == [] and kind_field_groups("nonsense", {})[1] == []
    # A value where the kind has none stays in sight: saving refuses it until it is cleared.
    assert "answer_pattern" in kind_field_groups("single", {"answer_pattern": "x+"})[0]


def fieldset_fields(content, css_class):
    found = re.search(rf'<fieldset class="module aligned [^"]*{css_class}[^"]*".*?</fieldset>', content, re.S)
    return set(re.findall(r'class="form-row[^"]* field-(\w+)', found.group(0))) if found else set()


@pytest.mark.parametrize("kind", [choice.value for choice in Question.Kind])
def test_a_saved_question_shows_the_fields_of_its_kind_and_folds_the_others(client, staff_user, kind):
    client.force_login(staff_user)
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions[kind]
    content = client.get(reverse("admin:journeys_question_change", args=[question.pk])).content.decode()
    used = {name for name, kinds in KIND_FIELDS.items() if kind in kinds and name != "choices"}
    assert fieldset_fields(content, "kind-fields") - {"__all__"} >= used
    unused = fieldset_fields(content, "kind-fields-unused")
    assert unused and not (unused & used)
    label = Question.Kind(kind).label.lower()
    assert f"Not used by {label} questions" in content
    if kind in KIND_FIELDS["choices"]:
        assert "Choices (not used by" not in content
    else:
        assert f"Choices (not used by {label} questions)" in content


def test_a_new_question_shows_every_field_with_the_kinds_for_the_script(client, staff_user):
    client.force_login(staff_user)
    content = client.get(reverse("admin:journeys_question_add")).content.decode()
    assert fieldset_fields(content, "kind-fields") == {
        "partial_credit",
        "accepted_answers",
        "answer_pattern",
        "wrong_feedback",
    }
    assert "kind-fields-unused" not in content
    kinds = json.loads(re.search(r"data-kind-fields=\"([^\"]+)\"", content).group(1).replace("&quot;", '"'))
    assert kinds["accepted_answers"] == ["short", "kubectl"] and "ordering" in kinds["choices"]
    assert "js/admin-question.js" in content


def test_a_refused_save_groups_the_fields_by_the_kind_just_posted(client, staff_user):
    client.force_login(staff_user)
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    url = reverse("admin:journeys_question_change", args=[question.pk])
    data = {"quiz": question.quiz_id, "order": 1, "kind": "short", "prompt": "p", "explanation": "e"}
    data.update({"choices-TOTAL_FORMS": 0, "choices-INITIAL_FORMS": 0})
    content = client.post(url, data).content.decode()
    assert "accepted_answers" in fieldset_fields(content, "kind-fields")
    assert "Not used by short answer questions" in content


# --- The lesson list ---


def test_the_lesson_list_shows_short_columns(staff_client, jobs):
    content = staff_client.get(reverse("admin:journeys_lesson_changelist")).content.decode()
    assert "column-module_title" in content and "column-updated" in content
    # The module's own title, without its journey's in front.
    assert f'<td class="field-module_title">{jobs.module.title}</td>' in content
