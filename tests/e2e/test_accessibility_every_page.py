"""axe-core finds no WCAG 2.1 A/AA violation on the pages test_accessibility does not walk: the
account pages, the error and "not found" answers, search's empty, typo and no-match states, the
quiz and assessment pages, an attempt's review, a lab run, the certificate's own page and a
newcomer's empty dashboard, at desktop and phone size, in the light and the dark theme."""

import pytest

from journeys.models import LabRun, QuizAttempt
from tests import factories

from .conftest import DESKTOP
from .support import JOURNEY, axe_violations, fill_quiz, lab_output, lesson_url, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 375, "height": 812}

ANONYMOUS_PAGES = [
    ("home, signed out", "/"),
    ("lesson, signed out", lesson_url("statefulsets")),
    ("password reset", "/account/password_reset/"),
    ("password reset sent", "/account/password_reset/done/"),
    ("unknown page", "/no-such-page/"),
    ("unknown lesson", f"{JOURNEY}no-such-lesson/"),
    ("invalid certificate", "/certificates/not-a-real-code/"),
    ("search, empty", "/search/"),
    ("search, a typo", "/search/?q=statfulset"),
    ("search, no match", "/search/?q=zebra+quokka"),
]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_no_wcag_violations_on_the_other_pages(size, scheme, graduate, browser, browser_context_args, base_url):
    phone = size == "phone"
    context = browser.new_context(
        **{**browser_context_args, "viewport": PHONE if phone else DESKTOP}, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(10_000)
    violations = []
    seen = []

    def visit(label, path, *, status=200):
        response = page.goto(path)
        assert response.status == status, f"{label}: {path} answered {response.status}"
        seen.append(label)
        violations.extend(axe_violations(page, f"{size} {scheme} {label}"))

    try:
        page = context.new_page()
        page.emulate_media(color_scheme=scheme)
        for label, path in ANONYMOUS_PAGES:
            status = 404 if label in {"unknown page", "unknown lesson", "invalid certificate"} else 200
            visit(label, path, status=status)

        newcomer = factories.UserFactory(username=f"newcomer-{size}-{scheme}")
        log_in(context, base_url, newcomer)
        visit("dashboard, nothing done yet", "/dashboard/")
        visit("password change", "/account/password_change/")
        visit("delete account", "/account/delete/")

        log_in(context, base_url, graduate)
        visit("certificate, its owner's page", f"{JOURNEY}certificate/")
        visit("final assessment", f"{JOURNEY}assessment/")
        quiz = page.locator("#quiz")
        fill_quiz(quiz.locator("form"), right=False)
        quiz.get_by_role("button", name="Check my answers").click()
        quiz.locator(".question--wrong").first.wait_for()
        attempt = QuizAttempt.objects.filter(user=graduate).latest("pk")
        visit("an attempt's review", attempt.get_absolute_url())

        page.goto(lesson_url("statefulsets"))
        lab = page.locator("#lab-stateful-web")
        lab.get_by_label("Paste the output of").fill(lab_output("stateful-web", "fail-replicas.yaml"))
        lab.get_by_role("button", name="Check pasted output").click()
        lab.locator(".check--fail").first.wait_for()
        run = LabRun.objects.filter(user=graduate).latest("pk")
        visit("a lab run", f"/labs/runs/{run.pk}/")
    finally:
        context.close()

    assert len(seen) == len(ANONYMOUS_PAGES) + 7, seen
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)
