"""Keyboard only: a learner who never touches a mouse can answer a quiz, check a lab and read definitions."""

import pytest
from playwright.sync_api import expect

from journeys.models import Question

from .support import lab_output, lesson_url, question_ids, right_answer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACTIVE = """() => {
    const el = document.activeElement;
    return {tag: el.tagName, type: el.type || "", name: el.name || "", value: el.value || "",
            text: el.textContent.trim(), checked: !!el.checked};
}"""


def tab_until(page, selector, limit=400):
    """Press Tab until the focused element matches ``selector``; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return
    pytest.fail(f"Tab never reached {selector}")


def answer_by_keyboard(page, answers):
    """Walk the quiz form with Tab, answering each field with the keys a person would use."""
    for _ in range(200):
        field = page.evaluate(ACTIVE)
        if field["tag"] == "BUTTON":
            assert field["text"] == "Check my answers"
            return
        name = field["name"]
        if field["type"] == "radio":
            # Arrow keys move through a radio group and select as they go; Space selects the first.
            target = str(answers[name][0])
            for _ in range(10):
                if page.evaluate(ACTIVE)["value"] == target:
                    break
                page.keyboard.press("ArrowDown")
            page.keyboard.press("Space")
            chosen = page.evaluate(ACTIVE)
            assert (chosen["value"], chosen["checked"]) == (target, True)
        elif field["type"] == "checkbox":
            if int(field["value"]) in answers[name]:
                page.keyboard.press("Space")
        elif field["tag"] == "SELECT":
            question, choice = name.split("-")
            page.keyboard.type(answers[question][int(choice)])  # typing a position picks that option
            assert page.evaluate(ACTIVE)["value"] == answers[question][int(choice)]
        elif field["type"] == "text":
            page.keyboard.type(answers[name])
        page.keyboard.press("Tab")
    pytest.fail("never reached the quiz's submit button")


def test_quiz_lab_and_glossary_by_keyboard_alone(site, page):
    page.goto(lesson_url("beyond-deployments"))

    # The glossary: a definition opens on focus and Escape closes it.
    page.locator("#main").focus()
    tab_until(page, ".gloss-term")
    tip = page.locator(f"#{page.locator('.gloss-term:focus').get_attribute('aria-describedby')}")
    expect(tip).to_be_visible()
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    tab_until(page, ".gloss-term")
    expect(page.locator(f"#{page.locator('.gloss-term:focus').get_attribute('aria-describedby')}")).to_be_visible()

    # The quiz, which has every kind of question but short answers.
    questions = Question.objects.filter(id__in=question_ids(page.locator("#quiz form"))).prefetch_related("choices")
    assert {question.kind for question in questions} >= {"single", "multiple", "true_false", "kubectl", "ordering"}
    answers = {f"q{question.id}": right_answer(question) for question in questions}
    tab_until(page, "#quiz form [name^='q']")
    answer_by_keyboard(page, answers)
    page.evaluate("window.__marker = 1")
    page.keyboard.press("Enter")
    expect(page.locator("#quiz").get_by_role("status")).to_contain_text("100% — passed")
    assert page.evaluate("window.__marker") == 1

    # The lab: paste into the textarea, Tab to the button, Enter.
    page.goto(lesson_url("jobs"))
    textarea = page.locator("#lab-batch-pi").get_by_label("Paste the output of")
    textarea.focus()
    page.keyboard.insert_text(lab_output("batch-pi", "pass.yaml"))
    tab_until(page, "#lab-batch-pi button[value='file']", limit=5)
    page.keyboard.press("Enter")
    result = page.locator("#lab-batch-pi .lab__result")
    expect(result).to_contain_text("Every required check passes")
    expect(result.locator(".check--fail")).to_have_count(0)
    expect(result.locator(".check__mark").first).to_have_text("✓")
