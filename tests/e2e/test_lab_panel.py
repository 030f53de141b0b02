"""The lab panel when a check is refused, in a real browser, with DEBUG on (what `make run` gives) and off.

Each refusal (a paste that cannot be read, one too large, a rate limit, a page whose session is
gone) shows its message inside the panel; the lesson around it stays, and so does the paste.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

import journeys.ratelimit
from journeys.models import LabRun
from journeys.sandbox import services

from .support import axe_violations, lab_output, lesson_url

pytestmark = pytest.mark.browser

LESSON = lesson_url("cronjobs")
GARBAGE = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: [backup\n"
# LAB_PANEL_SHOTS=DIR writes a picture of the refused-paste panel there: a look for whoever changes
# the panel, never a committed file.
SHOTS = os.environ.get("LAB_PANEL_SHOTS", "")


@pytest.fixture(params=["debug", "production"])
def mode(request, settings):
    # With DEBUG on, base.html also loads django-htmx's debug script, which shows error answers as whole pages.
    settings.DEBUG = request.param == "debug"
    return request.param


@pytest.fixture
def lab_page(site, page, mode):
    page.goto(LESSON)
    if mode == "debug":
        expect(page.locator("script[src*='django-htmx.js']")).to_have_count(1)
    else:
        expect(page.locator("script[src*='django-htmx.js']")).to_have_count(0)
    # A full page load would wipe this marker: the answers below must come in place.
    page.evaluate("window.__marker = 1")
    return page


def check(page, button="Check pasted output"):
    """Press a lab button; return the status of the answer."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.locator("#lab-nightly-backup").get_by_role("button", name=button).click()
    return answer.value.status


def paste_box(page):
    return page.locator("#lab-nightly-backup").get_by_label("Paste the output of")


def assert_page_intact(page):
    assert page.evaluate("window.__marker") == 1, "the page was replaced instead of updated in place"
    expect(page.locator("#lesson-title")).to_have_text("CronJobs")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_be_visible()
    expect(page.locator("#lab-title-nightly-backup")).to_be_visible()
    expect(page.locator("#quiz")).to_be_visible()


def test_a_paste_that_cannot_be_read_is_explained_in_the_panel(lab_page, mode):
    page = lab_page
    paste_box(page).fill(GARBAGE)
    assert check(page) == 400
    alert = page.locator("#lab-nightly-backup").get_by_role("alert")
    expect(alert).to_contain_text("We could not check your work.")
    expect(alert).to_contain_text("not valid YAML")
    expect(paste_box(page)).to_have_value(GARBAGE)
    assert_page_intact(page)
    assert not LabRun.objects.exists()
    assert axe_violations(page, f"refused paste ({mode})", "#lab-nightly-backup") == []
    if SHOTS:
        alert.evaluate("alert => alert.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(Path(SHOTS) / f"lab-refused-paste-{mode}.png"), animations="disabled", caret="hide")


def test_a_paste_too_large_to_read_is_refused_in_the_panel_and_kept(lab_page):
    page = lab_page
    too_large = "# " + "x" * (3 * 1024 * 1024)
    paste_box(page).evaluate("(box, text) => { box.value = text; }", too_large)
    assert check(page) == 413
    expect(page.locator("#lab-nightly-backup").get_by_role("alert")).to_contain_text("The file is larger than 1 MiB.")
    assert paste_box(page).evaluate("box => box.value.length") == len(too_large)
    assert_page_intact(page)


def test_the_rate_limit_is_explained_in_the_panel(lab_page, settings, monkeypatch):
    page = lab_page
    # Mid-minute, so the window cannot roll over between the two checks.
    monkeypatch.setattr(journeys.ratelimit, "clock", lambda: 1_800_000_030.0)
    settings.SANDBOX_RUNS_PER_MINUTE = 1
    paste = lab_output("nightly-backup", "pass.yaml")
    paste_box(page).fill(paste)
    assert check(page) == 200
    expect(page.locator("#lab-nightly-backup").get_by_role("status")).to_contain_text("Every required check passes")
    # The paste is still there: pressing the button again sends it again.
    expect(paste_box(page)).to_have_value(paste)
    assert check(page) == 429
    expect(page.locator("#lab-nightly-backup").get_by_role("alert")).to_contain_text(
        "You can check again in 31 seconds"
    )
    expect(paste_box(page)).to_have_value(paste)
    assert_page_intact(page)


def test_a_lost_session_asks_for_a_reload_in_the_panel(lab_page, context):
    page = lab_page
    paste = lab_output("nightly-backup", "pass.yaml")
    paste_box(page).fill(paste)
    context.clear_cookies()  # the session and the CSRF cookie, as when a session ends
    assert check(page) == 403
    stale = page.locator("#lab-nightly-backup .stale-page")
    expect(stale).to_contain_text("This page is out of date")
    assert axe_violations(page, "out-of-date page", "#lab-nightly-backup") == []
    expect(paste_box(page)).to_have_value(paste)
    assert_page_intact(page)
    # Once is enough, however often the learner presses the button.
    assert check(page) == 403
    expect(page.locator("#lab-nightly-backup .stale-page")).to_have_count(1)
    assert not LabRun.objects.exists()

    stale.get_by_role("link", name="Reload the page").click()
    expect(page.locator("#lab-nightly-backup .stale-page")).to_have_count(0)
    paste_box(page).fill(paste)
    assert check(page) == 200
    expect(page.locator("#lab-nightly-backup").get_by_role("status")).to_contain_text("Every required check passes")


def test_a_quiz_sent_from_an_out_of_date_page_gets_the_same_message(lab_page, context):
    page = lab_page
    context.clear_cookies()
    quiz = page.locator("#quiz")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        quiz.get_by_role("button", name="Check my answers").click()
    assert answer.value.status == 403
    expect(quiz.locator(".stale-page")).to_contain_text("This page is out of date")
    expect(quiz.locator("form")).to_be_visible()
    assert_page_intact(page)


def test_a_server_error_leaves_the_page_and_says_so_in_the_panel(site, page, settings, monkeypatch):
    settings.DEBUG = False  # with DEBUG on, django-htmx shows the traceback page instead, as it should

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "lab_check", broken)
    page.goto(LESSON)
    page.evaluate("window.__marker = 1")
    paste_box(page).fill(lab_output("nightly-backup", "pass.yaml"))
    assert check(page) == 500
    expect(page.locator("#lab-nightly-backup").get_by_role("alert")).to_contain_text(
        "Something went wrong on the portal's side"
    )
    assert_page_intact(page)


def test_without_javascript_each_answer_is_the_lab_page_with_the_paste_kept(site, browser, browser_context_args):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(LESSON)
        paste_box(page).fill(GARBAGE)
        status = check(page)
        assert status == 400
        expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("CronJobs")
        expect(page.locator("#lab-nightly-backup").get_by_role("alert")).to_contain_text("not valid YAML")
        expect(paste_box(page)).to_have_value(GARBAGE)

        failing = lab_output("nightly-backup", "fail-concurrency-policy.yaml")
        paste_box(page).fill(failing)
        assert check(page) == 200
        expect(page.locator("#lab-nightly-backup").get_by_role("status")).to_contain_text("Not there yet")
        expect(paste_box(page)).to_have_value(failing)
    finally:
        context.close()
