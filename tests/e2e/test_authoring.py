"""An author in admin: the Markdown editor, a preview of unsaved text in the site's look, question
fields that follow the kind, and a lesson list that fits a 1366-pixel screen."""

import pytest
from playwright.sync_api import expect

from journeys.models import Lesson, Question
from tests.factories import UserFactory

from .support import axe_violations, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LAPTOP = {"width": 1366, "height": 768}
NEW_HEADING = "Previewed, not saved"


@pytest.fixture
def editor(site, context, base_url):
    user = UserFactory(username="author", is_staff=True, is_superuser=True)
    log_in(context, base_url, user)
    return user


def lesson_change_url(slug):
    return f"/admin/journeys/lesson/{Lesson.objects.get(slug=slug).pk}/change/"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_preview_shows_the_unsaved_text_in_the_sites_look(editor, page, context, scheme):
    page.emulate_media(color_scheme=scheme)
    lesson = Lesson.objects.get(slug="jobs")
    page.goto(lesson_change_url("jobs"))

    body = page.locator("#id_body")
    assert int(body.get_attribute("rows")) >= 30
    style = body.evaluate("el => { const s = getComputedStyle(el); return [s.fontFamily, s.resize, el.clientHeight]; }")
    assert "monospace" in style[0] and style[1] == "vertical" and style[2] >= 400, style

    edited = f"{body.input_value()}\n\n## {NEW_HEADING}\n\nSee [[statefulset]] and **this**.\n"
    body.fill(edited)
    with context.expect_page() as opened:
        page.get_by_role("button", name="Preview").first.click()
    preview = opened.value
    preview.emulate_media(color_scheme=scheme)
    preview.wait_for_load_state()
    expect(preview.get_by_role("heading", level=2, name=NEW_HEADING)).to_be_visible()
    expect(preview.get_by_role("status").first).to_contain_text("Preview — nothing has been saved.")
    # The site's own page: its header, its stylesheet and its lesson layout, not admin's.
    expect(preview.locator(".site-header")).to_be_visible()
    assert preview.locator("link[href*='css/site.css']").count() == 1
    assert preview.locator("link[href*='admin/css']").count() == 0
    expect(preview.locator(".lesson-layout .prose .gloss-term").last).to_have_text("StatefulSet")
    if scheme == "light":
        preview.get_by_role("heading", level=2, name=NEW_HEADING).scroll_into_view_if_needed()
        screenshot(preview, "lesson-preview")
    violations = axe_violations(preview, f"{scheme} lesson preview")
    assert not violations, "\n".join(violations)
    preview.close()

    # Nothing was saved: the form still holds the edit, the lesson does not.
    expect(page.locator("#id_body")).to_have_value(edited)
    assert NEW_HEADING not in Lesson.objects.get(pk=lesson.pk).body


def test_question_fields_follow_the_kind(editor, page):
    page.goto("/admin/journeys/question/add/")
    kind = page.locator("#id_kind")
    rows = {name: page.locator(f".form-row.field-{name}") for name in
            ["partial_credit", "accepted_answers", "answer_pattern", "wrong_feedback"]}  # fmt: skip
    choices = page.locator("#choices-group")

    kind.select_option("short")
    for name in ["accepted_answers", "answer_pattern", "wrong_feedback"]:
        expect(rows[name]).to_be_visible()
    expect(rows["partial_credit"]).to_be_hidden()
    expect(choices).to_be_hidden()

    kind.select_option("multiple")
    expect(rows["partial_credit"]).to_be_visible()
    for name in ["accepted_answers", "answer_pattern", "wrong_feedback"]:
        expect(rows[name]).to_be_hidden()
    expect(choices).to_be_visible()

    kind.select_option("kubectl")
    expect(rows["accepted_answers"]).to_be_visible()
    expect(rows["answer_pattern"]).to_be_hidden()
    # A field the kind does not use stays in sight while it holds something (saving would refuse it).
    kind.select_option("short")
    page.locator("#id_answer_pattern").fill("on-?failure")
    kind.select_option("single")
    expect(rows["answer_pattern"]).to_be_visible()
    expect(rows["accepted_answers"]).to_be_hidden()


def test_without_javascript_a_saved_question_folds_the_fields_of_other_kinds(
    site, browser, browser_context_args, base_url
):
    user = UserFactory(username="plain-author", is_staff=True, is_superuser=True)
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        log_in(context, base_url, user)
        page = context.new_page()
        question = Question.objects.filter(kind="short").first()
        page.goto(f"/admin/journeys/question/{question.pk}/change/")
        expect(page.locator(".form-row.field-accepted_answers")).to_be_visible()
        expect(page.locator(".form-row.field-partial_credit")).to_be_hidden()  # inside a closed <details>
        expect(page.get_by_role("heading", name="Not used by short answer questions", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Choices (not used by short answer questions)")).to_be_visible()
        expect(page.locator("#id_choices-0-text")).to_have_count(0)  # no empty rows to fill in
    finally:
        context.close()


def test_the_lesson_list_fits_a_1366_pixel_screen(editor, page):
    page.set_viewport_size(LAPTOP)
    page.goto("/admin/journeys/lesson/")
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    widths = table.evaluate(
        """table => {
            const box = table.closest('.results') || table.parentElement;
            return {table: table.scrollWidth, box: box.clientWidth, page: document.documentElement.scrollWidth,
                    viewport: document.documentElement.clientWidth};
        }"""
    )
    print("lesson list widths at 1366 px:", widths)
    assert widths["table"] <= widths["box"], widths
    assert widths["page"] <= widths["viewport"], widths
