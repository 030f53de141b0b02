"""What a learner sees of the home page, a lab's reference solution and reviewer advice, and an ordering
question, in Chromium at desktop and phone size, in the light and the dark theme."""

import pytest
from playwright.sync_api import expect

from journeys.learners import Learner
from journeys.models import Lesson
from journeys.progress import services
from journeys.sandbox import texts
from journeys.sandbox.labs import LABS

from .support import axe_violations, horizontal_overflow, lab_output, lesson_url, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}
LESSON = lesson_url("cronjobs")  # a lab, a reference solution and an ordering question


@pytest.fixture(
    params=[("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark")],
    ids=lambda param: "-".join(param),
)
def learner_page(request, site, browser, browser_context_args):
    size, scheme = request.param
    args = {**browser_context_args, "color_scheme": scheme}
    if size == "phone":
        args.update(viewport=PHONE, is_mobile=True, has_touch=True)
    context = browser.new_context(**args)
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page = context.new_page()
    page.set_default_navigation_timeout(20_000)
    page.base = site.url
    yield page, size, scheme
    context.close()


def go(page, path):
    page.goto(page.base + path)


def no_overflow(page, label):
    result = horizontal_overflow(page)
    assert result["excess"] <= 0, f"{label} scrolls sideways: {result}"


def test_the_home_page_says_what_the_journey_is_and_where_to_start(learner_page):
    page, size, scheme = learner_page
    go(page, "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Run your apps on Kubernetes the way production teams do")
    start = page.get_by_role("link", name="Start the journey")
    expect(start).to_be_visible()
    first = Lesson.objects.in_outline_order().first()
    assert start.get_attribute("href") == first.get_absolute_url()
    assert page.locator(".landing-module").count() >= 3
    assert page.locator(".landing-lessons a").count() == Lesson.objects.count()
    no_overflow(page, f"home ({size})")
    assert axe_violations(page, f"home {size} {scheme}") == []
    start.click()
    expect(page).to_have_url(page.base + first.get_absolute_url())


def test_a_returning_learner_is_offered_to_continue(site, page, context, base_url, user):
    lessons = list(Lesson.objects.in_outline_order())
    services.lesson_complete(learner=Learner(user=user), lesson_id=lessons[0].pk)
    log_in(context, base_url, user)
    page.goto("/")
    link = page.get_by_role("link", name=f"Continue where you left off: {lessons[1].title}")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == lessons[1].get_absolute_url()
    assert axe_violations(page, "home, returning learner") == []


def test_the_reference_solution_is_highlighted_and_copied_exactly(learner_page):
    page, size, scheme = learner_page
    go(page, LESSON)
    lab = page.locator("#lab-nightly-backup")
    solution = lab.locator(".lab__solution")
    solution.locator("summary").click()
    block = solution.locator(".highlight")
    expect(block).to_be_visible()
    # The same markup and token classes as a lesson's code block (Pygments: nt is a YAML key).
    assert block.locator("pre > code span.nt").count() > 3
    lesson_block = page.locator(".prose .highlight").first
    assert lesson_block.evaluate("el => el.className") == block.evaluate("el => el.className")
    button = block.get_by_role("button", name="Copy this code to the clipboard")
    expect(button).to_be_visible()
    button.click()
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == texts.solution_text(LABS["nightly-backup"]).rstrip("\n")
    assert axe_violations(page, f"solution {size} {scheme}", "#lab-nightly-backup") == []


def test_after_a_check_the_solution_still_has_its_copy_button(learner_page):
    page, *_ = learner_page
    go(page, LESSON)
    lab = page.locator("#lab-nightly-backup")
    lab.get_by_label("Paste the output of").fill(lab_output("nightly-backup", "pass.yaml"))
    lab.get_by_role("button", name="Check pasted output").click()
    expect(page.locator("#lab-nightly-backup .lab__result")).to_be_visible()
    page.locator("#lab-nightly-backup .lab__solution summary").click()
    expect(page.locator("#lab-nightly-backup .lab__solution .copy-button")).to_have_count(1)


def test_reviewer_advice_names_each_object_once_with_fields_as_code(learner_page):
    page, size, scheme = learner_page
    go(page, LESSON)
    lab = page.locator("#lab-nightly-backup")
    untagged = lab_output("nightly-backup", "pass.yaml").replace("busybox:1.36", "busybox")
    lab.get_by_label("Paste the output of").fill(untagged)
    lab.get_by_role("button", name="Check pasted output").click()
    advice = page.locator("#lab-nightly-backup .advisories")
    expect(advice).to_be_visible()
    expect(advice.get_by_role("heading", name="CronJob backup")).to_have_count(1)
    points = advice.locator(".advice__points li")
    assert points.count() >= 3
    texts_shown = points.all_inner_texts()
    assert not any("CronJob backup" in text for text in texts_shown)
    assert any("pin a version, such as busybox:1.36" in text for text in texts_shown)
    assert not any("nginx" in text for text in texts_shown)
    codes = advice.locator("code").all_inner_texts()
    assert "busybox:1.36" in codes and any(code.startswith("securityContext.") for code in codes)
    no_overflow(page, f"lab advice ({size})")
    assert axe_violations(page, f"advice {size} {scheme}", "#lab-nightly-backup") == []


def test_every_ordering_step_has_its_position_box_in_the_same_place(learner_page):
    page, size, scheme = learner_page
    # CronJobs' steps are single words; troubleshooting's are long sentences that wrap on a phone.
    for slug in ("cronjobs", "troubleshooting"):
        go(page, lesson_url(slug))
        steps = page.locator("#quiz .ordering li")
        assert steps.count() >= 3
        places = []
        for index in range(steps.count()):
            step = steps.nth(index)
            select = step.locator("select").bounding_box()
            label = step.locator("label").bounding_box()
            places.append(round(select["x"]))
            # Beside the step's text, at its right, and level with it.
            assert select["x"] >= label["x"] + label["width"] - 1, (
                f"{slug} step {index + 1}: the box is not beside its text"
            )
            middle = select["y"] + select["height"] / 2
            assert label["y"] - 1 <= middle <= label["y"] + label["height"] + 1, f"{slug} step {index + 1}: not level"
        assert len(set(places)) == 1, f"{slug}: position boxes at different x ({size}): {places}"
        no_overflow(page, f"ordering in {slug} ({size})")
        assert axe_violations(page, f"ordering in {slug} {size} {scheme}", "#quiz") == []
