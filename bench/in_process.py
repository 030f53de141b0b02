"""In-process measurement: what one request costs with nothing else running, in the benchmark's own process.

Django's test client, the same settings and database as the server: SQL statements per request (each
timed), time spent rendering the page template, and the total; the median of a few rounds.
"""

import random
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.config import HOST, LAB, LAB_PASTE, LESSON_PATH
from bench.quiz_forms import multipart, parse_quiz_form


@dataclass
class Breakdown:
    status: int
    queries: int
    total_ms: float
    sql_ms: float
    template_ms: float
    template_queries: int
    statements: list = field(default_factory=list)


class TemplateTimer:
    """Time spent rendering the page template (outermost render only) and the queries run meanwhile."""

    def __init__(self):
        self.seconds, self.queries, self.depth = 0.0, 0, 0

    @contextmanager
    def installed(self, connection):
        from django.template.backends.django import Template

        original = Template.render
        timer = self

        def timed(template, *args, **kwargs):
            timer.depth += 1
            started, queries = time.perf_counter(), len(connection.queries)
            try:
                return original(template, *args, **kwargs)
            finally:
                timer.depth -= 1
                if timer.depth == 0:
                    timer.seconds += time.perf_counter() - started
                    timer.queries += len(connection.queries) - queries

        Template.render = timed
        try:
            yield self
        finally:
            Template.render = original


TRANSACTION_STATEMENTS = {"BEGIN", "COMMIT", "ROLLBACK"}


def measure_request(send):
    """Run ``send()`` (one test-client request) and return its Breakdown.

    Django logs query times rounded to the millisecond, so statements are timed again here; BEGIN and
    COMMIT bypass execute wrappers and keep Django's rounded figure.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(time.perf_counter() - started)

    timer = TemplateTimer()
    with (
        CaptureQueriesContext(connection) as captured,
        connection.execute_wrapper(timed),
        timer.installed(connection),
    ):
        started = time.perf_counter()
        response = send()
        total = time.perf_counter() - started
    precise = iter(timings)
    statements = []
    for query in captured.captured_queries:
        rounded = query["sql"].strip().upper() in TRANSACTION_STATEMENTS
        statements.append((float(query["time"]) if rounded else next(precise, 0.0), query["sql"]))
    return Breakdown(
        status=response.status_code,
        queries=len(statements),
        total_ms=1000 * total,
        sql_ms=1000 * sum(seconds for seconds, _ in statements),
        template_ms=1000 * timer.seconds,
        template_queries=timer.queries,
        statements=statements,
    )


def median_breakdown(samples):
    middle = sorted(samples, key=lambda sample: sample.total_ms)[len(samples) // 2]
    return Breakdown(
        status=middle.status,
        queries=middle.queries,
        total_ms=statistics.median(sample.total_ms for sample in samples),
        sql_ms=statistics.median(sample.sql_ms for sample in samples),
        template_ms=statistics.median(sample.template_ms for sample in samples),
        template_queries=middle.template_queries,
        statements=middle.statements,
    )


def in_process_scenarios(answers, *, learner, member):
    """{scenario: prepare}: ``prepare()`` sets up state (a login, an open quiz form) outside the measurement
    and returns the callable that makes the one request to measure. ``member`` reads the logged-in pages,
    ``learner`` submits quizzes and lab checks."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = {user.username: user for user in get_user_model().objects.filter(username__in=[learner, member])}
    rng = random.Random(7)  # noqa: S311 - answers to sample quizzes
    lab_body, lab_type = multipart([("mode", "file"), ("paste", LAB_PASTE.read_text())])
    form_type = "application/x-www-form-urlencoded"

    def client(username=learner):
        browser = Client(HTTP_HOST=HOST)
        if username:
            browser.force_login(users[username])
        browser.get(LESSON_PATH)  # opens the quiz form, as a reader does before anything else
        return browser

    reader, returning, resender, fresh, labber = client(member), client(None), client(), client(), client()
    # An anonymous reader gets a session with their first write; a quiz answered is the usual one.
    first = parse_quiz_form(returning.get(LESSON_PATH).content.decode())
    returning.post(f"/quizzes/{first.quiz_id}/submit/", first.body(answers, rng), form_type, HTTP_HX_REQUEST="true")
    resent_form = parse_quiz_form(resender.get(LESSON_PATH).content.decode())
    resent_body = resent_form.body(answers, rng)
    resent_url = f"/quizzes/{resent_form.quiz_id}/submit/"
    resender.post(resent_url, resent_body, form_type, HTTP_HX_REQUEST="true")

    # One client, its cookies dropped before each request: a new Client would load the middleware again,
    # and WhiteNoise scans every static file when it starts.
    visitor = Client(HTTP_HOST=HOST)

    def new_visitor():
        visitor.cookies.clear()
        return lambda: visitor.get(LESSON_PATH)

    def fresh_submit():
        form = parse_quiz_form(fresh.get(LESSON_PATH).content.decode())
        body = form.body(answers, rng)
        return lambda: fresh.post(f"/quizzes/{form.quiz_id}/submit/", body, form_type, HTTP_HX_REQUEST="true")

    return {
        "healthz": lambda: lambda: visitor.get("/healthz"),
        "anon_lesson": new_visitor,
        "anon_returning": lambda: lambda: returning.get(LESSON_PATH),
        "user_lesson": lambda: lambda: reader.get(LESSON_PATH),
        "dashboard": lambda: lambda: reader.get("/dashboard/"),
        "quiz_resent": lambda: lambda: resender.post(resent_url, resent_body, form_type, HTTP_HX_REQUEST="true"),
        "quiz_fresh": fresh_submit,
        "quiz_panel": lambda: lambda: fresh.get(f"/quizzes/{resent_form.quiz_id}/", HTTP_HX_REQUEST="true"),
        "lab_check": lambda: lambda: labber.post(f"/labs/{LAB}/check/", lab_body, lab_type, HTTP_HX_REQUEST="true"),
    }


def measure_in_process(answers, *, learner, member, rounds=7):
    results = {}
    for name, prepare in in_process_scenarios(answers, learner=learner, member=member).items():
        prepare()()  # warm-up: template loading, URL resolver, first connection
        results[name] = median_breakdown([measure_request(prepare()) for _ in range(rounds)])
    return results
