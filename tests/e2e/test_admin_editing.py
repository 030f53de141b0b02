"""An author edits the curriculum in Django admin and sees the change on the site straight away."""

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

from .support import PASSWORD, lesson_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PARAGRAPH = "Edited in admin: every StatefulSet Pod keeps its name when it is rescheduled."
NEW_PROMPT = "Which field of a StatefulSet names its headless Service?"


def test_an_admin_edits_a_lesson_and_adds_a_quiz_question(site, page):
    UserFactory(username="editor", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/admin/")
    page.locator("#id_username").fill("editor")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name, #header")).not_to_have_count(0)

    # The lesson body is Markdown; saving renders it.
    page.goto("/admin/journeys/lesson/?q=statefulsets")
    page.get_by_role("link", name="StatefulSets", exact=True).click()
    body = page.locator("#id_body")
    body.fill(f"{body.input_value()}\n\n{NEW_PARAGRAPH} **Really.**\n")
    page.locator("input[name=_save]").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(lesson_url("statefulsets"))
    paragraph = page.locator(".prose p").filter(has_text=NEW_PARAGRAPH)
    expect(paragraph).to_be_visible()
    expect(paragraph.locator("strong")).to_have_text("Really.")

    # A new single-choice question with its choices, in the lesson's quiz.
    page.goto("/admin/journeys/question/add/")
    page.locator("#id_quiz").select_option(label="Check your understanding (StatefulSets)")
    page.locator("#id_order").fill("99")
    page.locator("#id_kind").select_option("single")
    page.locator("#id_prompt").fill(NEW_PROMPT)
    page.locator("#id_explanation").fill("`serviceName` names the headless Service that gives each Pod its DNS name.")
    page.locator("#id_choices-0-order").fill("1")
    page.locator("#id_choices-0-text").fill("`spec.serviceName`")
    page.locator("#id_choices-0-is_correct").check()
    page.locator("#id_choices-1-order").fill("2")
    page.locator("#id_choices-1-text").fill("`spec.selector`")
    page.locator("#id_choices-1-feedback").fill("The selector picks the Pods, not the Service.")
    page.locator("input[name=_save]").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.goto(lesson_url("statefulsets"))
    quiz = page.locator("#quiz")
    expect(quiz.locator(".meta").first).to_contain_text("6 questions")
    question = quiz.locator(".question").filter(has_text=NEW_PROMPT)
    expect(question).to_be_visible()
    expect(question.locator("label.choice")).to_have_count(2)
    expect(question.locator("label.choice code").filter(has_text="spec.serviceName")).to_be_visible()


def test_admin_refuses_a_question_learners_could_not_answer(site, page):
    UserFactory(username="careful-editor", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/admin/")
    page.locator("#id_username").fill("careful-editor")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/admin/journeys/question/add/")
    page.locator("#id_quiz").select_option(label="Check your understanding (StatefulSets)")
    page.locator("#id_order").fill("99")
    page.locator("#id_kind").select_option("single")
    page.locator("#id_prompt").fill("Which object keeps a Pod's name?")
    page.locator("#id_explanation").fill("A StatefulSet gives each Pod a sticky ordinal.")
    page.locator("#id_choices-0-order").fill("1")
    page.locator("#id_choices-0-text").fill("StatefulSet")
    page.locator("#id_choices-1-order").fill("2")
    page.locator("#id_choices-1-text").fill("Deployment")
    page.locator("#id_choices-1-feedback").fill("Deployment Pods get random suffixes.")
    page.locator("input[name=_save]").first.click()
    # No correct choice: refused, with what to do, and the row the editor typed is still there.
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".errorlist.nonform")).to_contain_text("tick Correct on the right one")
    expect(page.locator("#id_choices-0-text")).to_have_value("StatefulSet")

    page.locator("#id_choices-0-is_correct").check()
    page.locator("input[name=_save]").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
