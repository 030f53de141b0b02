"""axe-core finds no WCAG 2.1 A/AA violation on the pages a learner sees, in the light and the dark theme."""

import pytest

from .support import JOURNEY, axe_violations, fill_quiz, lab_output, lesson_url, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_wcag_violations(scheme, graduate, page, context, base_url):
    page.emulate_media(color_scheme=scheme)
    violations = []

    def audit(label, within=None):
        violations.extend(axe_violations(page, f"{scheme} {label}", within))

    for label, path in [("login", "/account/login/"), ("signup", "/account/signup/")]:
        page.goto(path)
        audit(label)

    log_in(context, base_url, graduate)
    for label, path in [
        ("home", "/"),
        ("journey", JOURNEY),
        ("lesson", lesson_url("statefulsets")),
        ("glossary", "/glossary/"),
        ("search", "/search/?q=statefulset"),
        ("dashboard", "/dashboard/"),
        ("certificate", "/certificates/e2e0c0ffee/"),
    ]:
        page.goto(path)
        audit(label)

    page.goto(lesson_url("statefulsets"))
    fill_quiz(page.locator("#quiz form"), right=False)
    page.locator("#quiz").get_by_role("button", name="Check my answers").click()
    page.locator("#quiz .question--wrong").first.wait_for()
    # The rest of the lesson page was audited above; only the swapped-in panels are new.
    audit("quiz with feedback", "#quiz")

    page.locator("#lab-stateful-web").get_by_label("Paste the output of").fill(
        lab_output("stateful-web", "fail-replicas.yaml")
    )
    page.locator("#lab-stateful-web").get_by_role("button", name="Check pasted output").click()
    page.locator("#lab-stateful-web .check--fail").first.wait_for()
    audit("lab result", "#lab-stateful-web")

    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)
