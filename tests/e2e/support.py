"""What the browser tests share: answering quizzes from the database, axe, layout and screenshots."""

import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from journeys.models import Question

LAB_FIXTURES = Path(settings.BASE_DIR) / "tests" / "sandbox" / "fixtures"
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
JOURNEY = "/journeys/intermediate-app-developer/"
PASSWORD = "kube-journeys-e2e-pass"

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
_axe = Axe()


def lesson_url(slug):
    return f"{JOURNEY}{slug}/"


def lab_output(lab, name):
    return (LAB_FIXTURES / lab / name).read_text(encoding="utf-8")


# --- Quizzes ---


def question_ids(form):
    """The questions a rendered quiz form asks, in page order, from its field names (q<id> or q<id>-<choice>)."""
    names = form.locator("input[name^='q'], select[name^='q']").evaluate_all("els => els.map(el => el.name)")
    ids = []
    for name in names:
        question_id = int(re.match(r"q(\d+)", name).group(1))
        if question_id not in ids:
            ids.append(question_id)
    return ids


def answers_for(form, *, right):
    """{question: answer} for the questions on ``form``: the right answers from the database, or wrong ones."""
    questions = Question.objects.filter(id__in=question_ids(form)).prefetch_related("choices")
    return {question: (right_answer(question) if right else wrong_answer(question)) for question in questions}


def right_answer(question):
    choices = list(question.choices.all())
    if question.kind in (Question.Kind.SHORT, Question.Kind.KUBECTL):
        return question.accepted_answers[0]
    if question.kind == Question.Kind.ORDERING:
        return {choice.id: str(choice.order) for choice in choices}
    return [choice.id for choice in choices if choice.is_correct]


def wrong_answer(question):
    choices = list(question.choices.all())
    if question.kind == Question.Kind.SHORT:
        return "no idea"
    if question.kind == Question.Kind.KUBECTL:
        return "kubectl get nodes"
    if question.kind == Question.Kind.ORDERING:
        return {choice.id: str(len(choices) + 1 - choice.order) for choice in choices}
    return [next(choice.id for choice in choices if not choice.is_correct)]


def fill_quiz(form, *, right):
    """Answer every question on ``form`` through Playwright's form helpers (check, fill, select)."""
    fill_answers(form, answers_for(form, right=right))


def fill_answers(form, answers):
    """Give each question of ``answers`` ({question: answer}) exactly that answer, whatever the form
    was filled in with (a retry starts from the last attempt's answers): boxes not in it are unticked."""
    for question, answer in answers.items():
        name = f"q{question.id}"
        if isinstance(answer, str):
            form.locator(f"[name='{name}']").fill(answer)
        elif isinstance(answer, dict):
            for choice_id, position in answer.items():
                form.locator(f"[name='{name}-{choice_id}']").select_option(position)
        else:
            boxes = form.locator(f"[name='{name}']")
            for index in range(boxes.count()):
                box = boxes.nth(index)
                if int(box.get_attribute("value")) in answer:
                    box.check()
                elif box.get_attribute("type") == "checkbox":
                    box.uncheck()


# --- Accounts ---


def log_in(context, base_url, user):
    """Give a browser context the session of ``user`` without typing the login form again."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert client.session[SESSION_KEY] == str(user.pk)
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


# --- Checks on a page ---


def axe_violations(page, label, within=None):
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (or in the ``within`` selector),
    as readable lines; empty when there are none."""
    results = _axe.run(page, context=within, options=AXE_OPTIONS)
    lines = []
    for violation in results.response["violations"]:
        lines.append(f"[{label}] {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary'].splitlines()[-1].strip()}")
            lines.append(f"      {node['html'][:160]}")
    return lines


def horizontal_overflow(page):
    """How many CSS pixels the page is wider than its viewport, and the outermost elements sticking out.

    Elements inside a box that scrolls or clips sideways (a code block, a wide table) do not count.
    """
    return page.evaluate(
        """() => {
            const root = document.documentElement;
            const width = root.clientWidth;
            const excess = root.scrollWidth - width;
            if (excess <= 0) return {excess, culprits: []};
            const contained = el => {
                for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                    if (getComputedStyle(up).overflowX !== "visible") return true;
                }
                return false;
            };
            const name = el => el.tagName.toLowerCase()
                + (el.className ? "." + String(el.className).split(" ")[0] : "");
            const culprits = [...document.querySelectorAll("body *")]
                .filter(el => el.getBoundingClientRect().right > width + 1 && !contained(el))
                .slice(0, 4)
                .map(el => {
                    const right = Math.round(el.getBoundingClientRect().right);
                    const text = el.textContent.trim().slice(0, 50);
                    return `${name(el.parentElement)} > ${name(el)} (${right}px): ${text}`;
                });
            return {excess, culprits};
        }"""
    )


def screenshot(page, name):
    """Write docs/screenshots/<name>.png, leaving the file alone when the picture has not changed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    image = page.screenshot(animations="disabled", caret="hide")
    if not target.exists() or target.read_bytes() != image:
        target.write_bytes(image)
    return target
