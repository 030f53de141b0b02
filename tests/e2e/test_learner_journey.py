"""A new learner, start to finish, in a real browser: sign up, learn, answer, check a lab, get certified."""

import re

import pytest
from playwright.sync_api import expect

from journeys.models import Lesson

from .support import JOURNEY, PASSWORD, fill_quiz, lab_output, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSON = "StatefulSets"


def journey_progress(page):
    return page.locator("#journey-progress .progress__label").first


def main_nav(page, name):
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def submit(page, button):
    """Click a form button, with a marker on the page that a full page load would wipe; return the POST sent."""
    page.evaluate("window.__marker = 1")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        button.click()
    return posted.value.request


def assert_same_page(page):
    assert page.evaluate("window.__marker") == 1, "the page was loaded again instead of updated in place"


def test_a_new_learner_goes_from_sign_up_to_a_verified_certificate(site, page, browser, browser_context_args):
    lesson_count = Lesson.objects.count()
    page.goto("/")
    screenshot(page, "home")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "home-dark")
    page.emulate_media(color_scheme="light")

    # Sign up.
    page.get_by_role("link", name="Sign up").click()
    page.locator("#id_username").fill("ada")
    page.locator("#id_email").fill("ada@example.com")
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("status").filter(has_text="Your account is ready")).to_be_visible()
    expect(page.locator(".account-nav")).to_contain_text("ada")

    # Open the journey, then a lesson.
    main_nav(page, "Journeys").click()
    page.get_by_role("link", name="Intermediate App Developer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Intermediate App Developer")
    expect(page.locator(".progress__label").first).to_contain_text(f"0 of {lesson_count} lessons")
    screenshot(page, "journey")
    page.locator(".lesson-list").get_by_role("link", name=LESSON, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON)
    expect(page.locator(".prose h2").first).to_be_visible()
    expect(journey_progress(page)).to_contain_text(f"0 of {lesson_count} lessons")

    # A glossary definition, opened by keyboard alone.
    page.locator("#main").focus()
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.gloss-term')"):
            break
    else:
        pytest.fail("Tab never reached a glossary term in the lesson")
    term = page.locator(".gloss-term:focus")
    tip = page.locator(f"#{term.get_attribute('aria-describedby')}")
    expect(tip).to_be_visible()
    expect(tip).to_have_attribute("role", "tooltip")
    term.evaluate("term => term.scrollIntoView({block: 'center'})")
    screenshot(page, "lesson-glossary-tooltip")
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()

    # The quiz: wrong, then right, each graded in place by htmx.
    quiz = page.locator("#quiz")
    fill_quiz(quiz.locator("form"), right=False)
    request = submit(page, quiz.get_by_role("button", name="Check my answers"))
    assert request.headers.get("hx-request") == "true"
    assert "/submit/" in request.url
    expect(quiz.get_by_role("status")).to_contain_text("not passed yet")
    expect(quiz.locator(".question--wrong").first).to_contain_text("Not right")
    assert_same_page(page)
    screenshot(page, "quiz-feedback")

    with page.expect_request(lambda sent: sent.headers.get("hx-request") == "true"):
        quiz.get_by_role("link", name="Try again").click()
    expect(quiz.get_by_role("button", name="Check my answers")).to_be_visible()
    fill_quiz(quiz.locator("form"), right=True)
    request = submit(page, quiz.get_by_role("button", name="Check my answers"))
    assert request.headers.get("hx-request") == "true"
    expect(quiz.get_by_role("status")).to_contain_text("100% — passed")
    expect(quiz.get_by_role("status")).to_contain_text("This lesson now counts as complete")
    expect(quiz.locator(".actions .button").first).to_have_text("Next lesson: DaemonSets")
    assert_same_page(page)
    page.reload()
    expect(journey_progress(page)).to_contain_text(f"1 of {lesson_count} lessons")

    # The lab: paste kubectl output that fails a check, then output that passes.
    lab = page.locator("#lab-stateful-web")
    lab.get_by_label("Paste the output of").fill(lab_output("stateful-web", "fail-replicas.yaml"))
    request = submit(page, lab.get_by_role("button", name="Check pasted output"))
    assert request.headers.get("hx-request") == "true"
    expect(lab.get_by_role("status")).to_contain_text("Not there yet")
    expect(lab.locator(".check--fail .check__mark").first).to_have_text("✗")
    expect(lab.locator(".check--pass .check__mark").first).to_have_text("✓")
    assert_same_page(page)
    lab.locator(".lab__result").evaluate("result => result.scrollIntoView({block: 'start'})")
    screenshot(page, "lab-result")
    advice = lab.locator(".advice").first
    expect(advice.locator(".advice__object")).to_be_visible()
    advice.evaluate("section => section.scrollIntoView({block: 'start'})")
    screenshot(page, "lab-advice")
    lab.get_by_label("Paste the output of").fill(lab_output("stateful-web", "pass.yaml"))
    lab.get_by_role("button", name="Check pasted output").click()
    expect(lab.get_by_role("status")).to_contain_text("Every required check passes")
    expect(lab.locator(".check--fail")).to_have_count(0)
    expect(lab.locator(".check__mark").first).to_have_text("✓")

    # The dashboard knows where the learner was, and points one way: on from there.
    main_nav(page, "Dashboard").click()
    expect(page.locator(".next-step")).to_have_count(1)
    expect(page.locator(".next-step")).to_contain_text("Start “DaemonSets”")
    expect(page.get_by_text("Continue where you left off")).to_have_count(0)
    expect(page.locator(".dashboard-journey .progress__label")).to_contain_text(f"1 of {lesson_count} lessons")
    screenshot(page, "dashboard")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "dashboard-dark")
    page.emulate_media(color_scheme="light")

    # Every other lesson, marked complete with its button; the progress moves without a reload.
    page.goto(JOURNEY)
    lesson_links = page.locator(".lesson-list a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(lesson_links) == lesson_count
    done = 1
    for href in lesson_links:
        page.goto(href)
        button = page.get_by_role("button", name="Mark this lesson as complete")
        if not button.count():
            continue
        assert submit(page, button).headers.get("hx-request") == "true"
        done += 1
        expect(page.locator(".completion__done")).to_contain_text("You have completed this lesson")
        expect(journey_progress(page)).to_contain_text(f"{done} of {lesson_count} lessons")
        assert_same_page(page)
    assert done == lesson_count

    # The final assessment, answered from the database for the questions this attempt drew.
    page.goto(f"{JOURNEY}assessment/")
    form = page.locator("#quiz form")
    expect(form.locator(".question")).to_have_count(15)
    fill_quiz(form, right=True)
    form.get_by_role("button", name="Check my answers").click()
    expect(page.locator("#quiz").get_by_role("status")).to_contain_text("100% — passed")

    # The certificate, and its public link opened by someone who is not logged in.
    main_nav(page, "Dashboard").click()
    page.get_by_role("link", name=re.compile("certificate", re.IGNORECASE)).first.click()
    expect(page).to_have_url(re.compile(r"/certificates/[0-9a-f]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ada")
    expect(page.locator(".certificate__journey")).to_have_text("Intermediate App Developer")
    screenshot(page, "certificate")
    verify_url = page.locator(".certificate__verify a").get_attribute("href")
    assert verify_url == page.url

    stranger = browser.new_context(**browser_context_args)
    try:
        public = stranger.new_page()
        public.goto(verify_url)
        expect(public.get_by_role("heading", level=1)).to_have_text("ada")
        expect(public.get_by_role("status")).to_contain_text("This certificate is genuine")
        expect(public.get_by_role("link", name="Log in")).to_be_visible()
        expect(public.get_by_text("Print this page")).to_have_count(0)
    finally:
        stranger.close()
