"""On a phone-sized screen no page scrolls sideways: everything wraps or scrolls inside its own box."""

import pytest

from journeys.models import LabRun, Lesson, QuizAttempt

from .support import JOURNEY, fill_quiz, horizontal_overflow, lab_output, lesson_url, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}


def test_no_page_scrolls_sideways_on_a_phone(graduate, browser, browser_context_args, base_url):
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE}, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    overflowing = {}

    def check(label):
        result = horizontal_overflow(page)
        if result["excess"] > 0:
            overflowing[label] = result

    try:
        page = context.new_page()
        for path in ["/account/login/", "/account/signup/"]:
            page.goto(path)
            check(path)

        log_in(context, base_url, graduate)
        pages = ["/", JOURNEY, "/glossary/", "/search/?q=statefulset", "/dashboard/", "/certificates/e2e0c0ffee/"]
        pages += [lesson.get_absolute_url() for lesson in Lesson.objects.in_outline_order()]
        for path in pages:
            page.goto(path)
            check(path)

        page.goto(lesson_url("statefulsets"))
        terms = page.locator(".prose .gloss-term")
        for number in range(terms.count()):
            terms.nth(number).focus()
            check(f"glossary tooltip {number + 1} open")

        fill_quiz(page.locator("#quiz form"), right=False)
        page.locator("#quiz").get_by_role("button", name="Check my answers").click()
        page.locator("#quiz .question--wrong").first.wait_for()
        page.locator("#lab-stateful-web").get_by_label("Paste the output of").fill(
            lab_output("stateful-web", "fail-replicas.yaml")
        )
        page.locator("#lab-stateful-web").get_by_role("button", name="Check pasted output").click()
        page.locator("#lab-stateful-web .check--fail").first.wait_for()
        check("lesson with quiz and lab results")

        page.goto(QuizAttempt.objects.filter(user=graduate).latest("id").get_absolute_url())
        check("quiz result page")
        page.goto(f"/labs/runs/{LabRun.objects.filter(user=graduate).latest('id').pk}/")
        check("lab result page")
    finally:
        context.close()

    assert not overflowing, f"pages wider than a 375px screen: {overflowing}"
