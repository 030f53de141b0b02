"""With JavaScript off, htmx is gone: the quiz and the lab are plain forms and still work."""

import re

import pytest
from playwright.sync_api import expect

from .support import fill_quiz, lab_output, lesson_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_quiz_and_a_lab_check_work_without_javascript(site, browser, browser_context_args):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto(lesson_url("jobs"))
        assert page.evaluate("typeof window.htmx") == "undefined"

        fill_quiz(page.locator("#quiz form"), right=True)
        page.locator("#quiz").get_by_role("button", name="Check my answers").click()
        expect(page).to_have_url(re.compile(r"/attempts/\d+/$"))
        expect(page.get_by_role("heading", name=re.compile("your result"))).to_be_visible()
        expect(page.locator("#quiz").get_by_role("status")).to_contain_text("100% — passed")

        page.goto(lesson_url("jobs"))
        page.locator("#lab-batch-pi").get_by_label("Paste the output of").fill(
            lab_output("batch-pi", "fail-parallelism.yaml")
        )
        page.locator("#lab-batch-pi").get_by_role("button", name="Check pasted output").click()
        # Without JavaScript the answer is the lab page itself, with the paste kept in its box.
        expect(page).to_have_url(re.compile(r"/labs/batch-pi/check/$"))
        expect(page.locator("#lab-batch-pi").get_by_label("Paste the output of")).not_to_be_empty()
        expect(page.locator(".lab__result")).to_contain_text("Not there yet")
        expect(page.locator(".check--fail .check__mark").first).to_have_text("✗")
    finally:
        context.close()
