"""What `make bench` measures: each scenario's label, the wrk runs (one request made again and again, and
fresh quiz forms never submitted before), and the learners' quiz loops."""

import random
import re
from dataclasses import dataclass, replace

from bench import portal_api
from bench.browser import Browser
from bench.config import (
    LAB,
    LAB_MARKER,
    LAB_PASTE,
    LESSON_PATH,
    RESULT_MARKER,
    WARMUP_SECONDS,
    WORKERS,
    WRK_SECONDS,
    WRK_THREADS,
    log,
)
from bench.quiz_forms import multipart, parse_quiz_form
from bench.wrk import FRESH_FORMS_LUA, wrk

LABELS = {
    "healthz": "GET /healthz (ceiling)",
    "anon_lesson": "GET lesson, anonymous (new visitor)",
    "anon_returning": "GET lesson, anonymous (returning)",
    "user_lesson": "GET lesson, logged in",
    "dashboard": "GET dashboard, logged in",
    "quiz_resent": "POST quiz, re-sent token",
    "quiz_fresh": "POST quiz, fresh form",
    "quiz_panel": "GET quiz panel (Try again)",
    "lab_check": "POST lab check (pasted YAML)",
}


@dataclass(frozen=True)
class QuizLoop:
    """Learners on the CronJobs lesson answering its quiz, then "Try again", for ``seconds``."""

    name: str
    learners: int
    seconds: int
    pause: tuple = (0.0, 0.0)
    seed: int = 11

    @property
    def who(self):
        if self.pause[1]:
            return f"{self.learners} learners pausing {self.pause[0]:g}–{self.pause[1]:g} s"
        return f"{self.learners} learners, no pause"

    @property
    def label(self):
        return f"POST quiz after Try again ({self.who})"


QUIZ_LOOPS = (
    # The target's load: 32 learners clicking as fast as the server answers (a closed loop).
    QuizLoop("fresh", learners=32, seconds=20, seed=11),
    # As many learners as workers: latency with almost no queueing, i.e. close to the service time.
    QuizLoop("calm", learners=WORKERS, seconds=15, seed=13),
    # 32 learners who read for a moment before each click (a class working through the quiz together).
    QuizLoop("paced", learners=32, seconds=30, pause=(1.0, 3.0), seed=17),
)


def form_headers(content_type):
    return {"HX-Request": "true", "Content-Type": content_type}


def http_scenarios(base, answers, member, resender, labber):
    """The wrk runs: {scenario: wrk options}. Each POST is made once first, and must answer 200."""
    rng = random.Random(3)  # noqa: S311 - sample answers
    url = base + LESSON_PATH
    form_type = "application/x-www-form-urlencoded"

    form = parse_quiz_form(resender.request(LESSON_PATH)[1])
    quiz_body = form.body(answers, rng).encode()
    quiz_url = f"/quizzes/{form.quiz_id}/submit/"
    status, body, _ = resender.request(quiz_url, data=quiz_body, headers=form_headers(form_type))
    if status != 200 or RESULT_MARKER not in body:
        raise RuntimeError(f"the first quiz submission answered {status}")

    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', labber.request(LESSON_PATH)[1]).group(1)
    lab_body, lab_type = multipart([("csrfmiddlewaretoken", csrf), ("mode", "file"), ("paste", LAB_PASTE.read_text())])
    lab_url = f"/labs/{LAB}/check/"
    status, body, _ = labber.request(lab_url, data=lab_body, headers=form_headers(lab_type))
    if status != 200 or LAB_MARKER not in body:
        raise RuntimeError(f"the first lab check answered {status}")

    # An anonymous reader gets a session with their first write; a quiz answered is the usual one.
    returning = Browser(base)
    first = parse_quiz_form(returning.request(LESSON_PATH)[1])
    returning.submit_quiz(first, answers, rng)
    if not returning.cookie("sessionid"):
        raise RuntimeError("an anonymous quiz submission started no session")

    for browser in (member, returning):
        if browser.request(LESSON_PATH)[0] != 200:
            raise RuntimeError("the lesson page did not answer 200")
    if member.request("/dashboard/")[0] != 200:
        raise RuntimeError("the dashboard did not answer 200")

    def post(path, browser, body, content_type):
        return {
            "url": base + path,
            "cookie": browser.cookie_header(),
            "method": "POST",
            "body": body,
            "content_type": content_type,
        }

    return {
        "healthz": {"url": base + "/healthz"},
        "anon_lesson": {"url": url},
        "anon_returning": {"url": url, "cookie": returning.cookie_header()},
        "user_lesson": {"url": url, "cookie": member.cookie_header()},
        "dashboard": {"url": base + "/dashboard/", "cookie": member.cookie_header()},
        "quiz_resent": post(quiz_url, resender, quiz_body, form_type),
        "lab_check": post(lab_url, labber, lab_body, lab_type),
    }


def fresh_form_lines(browsers, answers, count, seed):
    """``count`` "cookie TAB body" lines, each a quiz form never submitted, for the browsers in turn.

    Each learner's page gives their CSRF token and the quiz's questions; the forms themselves are
    made by the portal's own code (same secret key as the server), as its pages would hand them out.
    """
    rng = random.Random(seed)  # noqa: S311 - sample answers
    pages = []
    for browser in browsers:
        status, page, _ = browser.request(LESSON_PATH)
        if status != 200:
            raise RuntimeError(f"the lesson page answered {status}")
        pages.append((browser.cookie_header(), parse_quiz_form(page)))
    lines = []
    for number in range(count):
        cookie, form = pages[number % len(pages)]
        # The page's own form renewed: the same learner and questions, an attempt never recorded.
        fresh = replace(form, token=portal_api.renewed_quiz_token(form.token, form.quiz_id))
        lines.append(f"{cookie}\t{fresh.body(answers, rng)}\n")
    return "".join(lines), form.quiz_id


def run_fresh_forms(base, browsers, usernames, answers, workdir, meter, expected_rps):
    """wrk posting quiz forms that were never submitted: every request grades and records an attempt."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    # Enough forms for twice the rate expected; running out stops the benchmark rather than re-send one.
    count = int(2 * expected_rps * (WRK_SECONDS + 5)) + 500
    warmup, quiz_id = fresh_form_lines(browsers, answers, count // 3, seed=5)
    measured, _ = fresh_form_lines(browsers, answers, count, seed=7)
    (workdir / "fresh-warmup.tsv").write_text(warmup)
    (workdir / "fresh.tsv").write_text(measured)
    user_ids = list(get_user_model().objects.filter(username__in=usernames).values_list("id", flat=True))
    options = {"method": "POST", "content_type": "application/x-www-form-urlencoded", "lua": FRESH_FORMS_LUA}
    url = f"{base}/quizzes/{quiz_id}/submit/"

    log(f"wrk {LABELS['quiz_fresh']}: {WARMUP_SECONDS} s warm-up, then {WRK_SECONDS} s ({len(browsers)} learners)")
    wrk(
        url,
        workdir,
        name="fresh-warmup",
        seconds=WARMUP_SECONDS,
        args=(str(workdir / "fresh-warmup.tsv"), str(WRK_THREADS)),
        **options,
    )
    before = portal_api.quiz_attempt_count(user_ids)
    connection.close()
    with meter.measure() as cpu:
        result = wrk(url, workdir, name="fresh", args=(str(workdir / "fresh.tsv"), str(WRK_THREADS)), **options)
    result.cpu = cpu
    result.rows_created = portal_api.quiz_attempt_count(user_ids) - before
    connection.close()
    print(
        f"   {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"non-2xx {result.non_2xx}, attempts recorded {result.rows_created}"
    )
    return result


def run_wrk(runs, workdir, meter):
    results = {}
    for name, options in runs.items():
        log(f"wrk {LABELS[name]}: {WARMUP_SECONDS} s warm-up, then {WRK_SECONDS} s")
        target = options.pop("url")
        wrk(target, workdir, name=f"{name}-warmup", seconds=WARMUP_SECONDS, **options)
        with meter.measure() as cpu:
            result = results[name] = wrk(target, workdir, name=name, **options)
        result.cpu = cpu
        print(
            f"   {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}"
        )
    return results
