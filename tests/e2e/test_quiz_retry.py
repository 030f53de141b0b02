"""A quiz retry and the dashboard, as a learner sees them on a desktop and a phone, light and dark:
the retry starts from the last answers with what was not right marked in words, a pass leads on to
the next lesson, and the dashboard names one thing to do next. axe finds nothing on either page."""

import re

import pytest
from playwright.sync_api import expect

from journeys.models import Lesson
from tests import factories

from .conftest import DESKTOP
from .support import (
    answers_for,
    axe_violations,
    fill_answers,
    horizontal_overflow,
    lesson_url,
    log_in,
    screenshot,
    wrong_answer,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}
# Its quiz has every kind of question but short answers, an ordering one among them.
LESSON = "serviceaccounts-and-rbac"
WRONG_KINDS = ("ordering", "kubectl", "true_false")
TRANSPARENT = "rgba(0, 0, 0, 0)"


def next_lesson():
    lessons = list(Lesson.objects.in_outline_order())
    return lessons[[lesson.slug for lesson in lessons].index(LESSON) + 1]


def new_context(browser, browser_context_args, *, size, scheme, javascript=True):
    phone = size == "phone"
    context = browser.new_context(
        **{**browser_context_args, "viewport": PHONE if phone else DESKTOP},
        is_mobile=phone,
        has_touch=phone,
        color_scheme=scheme,
        java_script_enabled=javascript,
    )
    context.set_default_timeout(10_000)
    return context


def mixed_answers(form):
    """{question: answer}: right for most, wrong for one question of each kind in WRONG_KINDS."""
    answers = answers_for(form, right=True)
    wrong = set()
    for question in answers:
        if question.kind in WRONG_KINDS and question.kind not in {other.kind for other in wrong}:
            answers[question] = wrong_answer(question)
            wrong.add(question)
    assert {question.kind for question in wrong} == set(WRONG_KINDS)
    return answers, wrong


def assert_filled_in(form, answers):
    """Each field shows the answer given last time."""
    for question, answer in answers.items():
        name = f"q{question.id}"
        if isinstance(answer, str):
            expect(form.locator(f"[name='{name}']")).to_have_value(answer)
        elif isinstance(answer, dict):
            for choice_id, position in answer.items():
                expect(form.locator(f"[name='{name}-{choice_id}']")).to_have_value(position)
        else:
            boxes = form.locator(f"[name='{name}']")
            for index in range(boxes.count()):
                box = boxes.nth(index)
                if int(box.get_attribute("value")) in answer:
                    expect(box).to_be_checked()
                else:
                    expect(box).not_to_be_checked()


def question_item(form, question):
    fields = form.page.locator(f"[name='q{question.id}'], [name^='q{question.id}-']")  # matched inside each item
    return form.locator("li.question").filter(has=fields)


def background(locator):
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_retry_keeps_the_answers_marks_the_wrong_ones_and_a_pass_leads_on(
    site, browser, browser_context_args, base_url, size, scheme
):
    learner = factories.UserFactory()
    following = next_lesson()
    context = new_context(browser, browser_context_args, size=size, scheme=scheme)
    violations, overflowing = [], {}

    def audit(label, within=None):
        violations.extend(axe_violations(page, f"{size} {scheme} {label}", within))
        result = horizontal_overflow(page)
        if result["excess"] > 0:
            overflowing[label] = result

    try:
        log_in(context, base_url, learner)
        page = context.new_page()
        page.goto(lesson_url(LESSON))
        quiz = page.locator("#quiz")
        check = quiz.get_by_role("button", name="Check my answers")

        # With a quiz on the page, marking the lesson complete is the second way: drawn in outline,
        # still a button a keyboard reaches right after the quiz's own.
        mark = page.get_by_role("button", name="Mark this lesson as complete")
        assert background(check) != TRANSPARENT and background(mark) == TRANSPARENT
        check.focus()
        page.keyboard.press("Tab")
        expect(mark).to_be_focused()

        # A first attempt, wrong on three questions.
        answers, wrong = mixed_answers(quiz.locator("form"))
        fill_answers(quiz.locator("form"), answers)
        check.click()
        expect(quiz.get_by_role("status")).to_contain_text("not passed yet")
        expect(quiz.get_by_role("link", name="Back to the lesson")).to_have_count(0)

        # Try again: the same answers, the wrong ones marked in words, nothing revealed.
        with page.expect_request(lambda sent: sent.headers.get("hx-request") == "true"):
            quiz.get_by_role("link", name="Try again").click()
        form = quiz.locator("form")
        expect(check).to_be_visible()
        assert_filled_in(form, answers)
        expect(quiz.locator(".question__last")).to_have_count(len(wrong))
        for question in answers:
            item = question_item(form, question)
            if question in wrong:
                note = item.locator(".question__last")
                expect(note).to_be_visible()
                expect(note).to_have_text("✗ Last time: not right")
                expect(item.locator("fieldset")).to_have_accessible_description(re.compile(r"Last time: not right$"))
            else:
                expect(item.locator(".question__last")).to_have_count(0)
        expect(quiz.locator(".retry-note")).to_contain_text("3 questions are marked “Last time: not right”")
        kubectl = next(question for question in wrong if question.kind == "kubectl")
        expect(quiz).not_to_contain_text(kubectl.accepted_answers[0])
        quiz.locator(".question--retry").first.scroll_into_view_if_needed()
        audit("quiz retry", "#quiz")
        if (size, scheme) == ("desktop", "light"):
            quiz.locator(".question--retry").first.scroll_into_view_if_needed()
            screenshot(page, "quiz-retry")

        # Only the marked ones need changing; then the pass leads on to the next lesson.
        fill_answers(
            form, {question: answer for question, answer in answers_for(form, right=True).items() if question in wrong}
        )
        check.click()
        expect(quiz.get_by_role("status")).to_contain_text("100% — passed")
        actions = quiz.locator(".actions")
        lead = actions.locator(".button").first
        expect(lead).to_have_text(f"Next lesson: {following.title}")
        try_again = actions.get_by_role("link", name="Try again")
        # The click left the pointer where the result's buttons now are: a hover colour is not the look.
        page.mouse.move(0, 0)
        expect(try_again).to_have_css("background-color", TRANSPARENT)  # waits out a hover transition
        assert background(lead) != TRANSPARENT
        expect(actions.get_by_role("link", name="Back to the lesson")).to_have_count(0)
        audit("quiz passed", "#quiz")
        if (size, scheme) == ("desktop", "light"):
            screenshot(page, "quiz-passed")
        lead.click()
        expect(page).to_have_url(re.compile(rf"{following.get_absolute_url()}$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(following.title)

        # The dashboard: one next step, the lesson just opened; one activity line per lesson.
        page.goto("/dashboard/")
        step = page.locator(".dashboard-journey .next-step")
        expect(step).to_have_count(1)
        expect(step.locator("a")).to_have_count(1)
        expect(step).to_contain_text(f"Continue “{following.title}”")
        assert step.locator("a").get_attribute("href") == following.get_absolute_url()
        expect(page.get_by_text("Continue where you left off")).to_have_count(0)
        lines = page.locator(".activity li")
        expect(lines).to_have_count(1)
        expect(lines.first).to_contain_text("passed its quiz with 100%")
        expect(lines.first).to_contain_text("just now")
        audit("dashboard")
    finally:
        context.close()

    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)
    assert not overflowing, f"wider than the screen: {overflowing}"


def test_a_retry_is_filled_in_without_javascript_too(site, browser, browser_context_args):
    context = new_context(browser, browser_context_args, size="desktop", scheme="light", javascript=False)
    try:
        page = context.new_page()
        page.goto(lesson_url(LESSON))
        answers, wrong = mixed_answers(page.locator("#quiz form"))
        fill_answers(page.locator("#quiz form"), answers)
        page.locator("#quiz").get_by_role("button", name="Check my answers").click()
        expect(page).to_have_url(re.compile(r"/attempts/\d+/$"))
        expect(page.locator("#quiz").get_by_role("link", name="Back to the lesson")).to_be_visible()

        page.locator("#quiz").get_by_role("link", name="Try again").click()
        expect(page).to_have_url(re.compile(rf"{lesson_url(LESSON)}#quiz$"))
        form = page.locator("#quiz form")
        assert_filled_in(form, answers)
        expect(form.locator(".question__last")).to_have_count(len(wrong))
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_graduates_dashboard_points_only_to_the_certificate(
    graduate, browser, browser_context_args, base_url, size, scheme
):
    context = new_context(browser, browser_context_args, size=size, scheme=scheme)
    try:
        log_in(context, base_url, graduate)
        page = context.new_page()
        page.goto("/dashboard/")
        step = page.locator(".next-step")
        expect(step).to_have_count(1)
        expect(step.get_by_role("link")).to_have_text(re.compile(r"^See your certificate"))
        expect(page.get_by_text(re.compile("Continue"))).to_have_count(0)
        violations = axe_violations(page, f"{size} {scheme} graduate's dashboard")
        assert not violations, "\n".join(violations)
        assert horizontal_overflow(page)["excess"] <= 0
    finally:
        context.close()
