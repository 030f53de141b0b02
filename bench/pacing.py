"""A class pacing through the journey: signed-in learners who read, answer quizzes and check labs on a clock.

Each learner reads a lesson page about every 20 s, submits that lesson's quiz about every 2 minutes
(then moves on to the next lesson) and pastes a lab's `kubectl get -o yaml` output for a check about
every 5 minutes; every interval is drawn afresh from mean * (1 ± jitter), so a class does not act in
step. The load is an open loop: a learner's next action is due at its scheduled time whatever the
server does, and its latency is measured from that scheduled time, not from when it could be sent.
A learner still waiting for a slow answer sends the next one late, and that lateness counts in the
next request's latency too (otherwise a slow server would be measured by the few requests it lets
through: "coordinated omission").
"""

import asyncio
import heapq
import math
from collections import Counter
from dataclasses import dataclass, field

from bench.config import LAB_MARKER, REQUEST_TIMEOUT, RESULT_MARKER
from bench.quiz_forms import multipart, parse_quiz_form
from bench.raw_http import Connection, ProtocolError

FORM_TYPE = "application/x-www-form-urlencoded"
KINDS = ("read", "quiz", "lab")


@dataclass(frozen=True)
class Pace:
    """Mean seconds between one learner's actions of each kind; each interval is mean * (1 ± jitter)."""

    read: float = 20.0
    quiz: float = 120.0
    lab: float = 300.0
    jitter: float = 0.5

    def interval(self, kind, rng):
        return getattr(self, kind) * rng.uniform(1 - self.jitter, 1 + self.jitter)

    @property
    def requests_per_learner_second(self):
        return sum(1 / getattr(self, kind) for kind in KINDS)


@dataclass
class StepStats:
    """What one step measured: requests due within the window, however late they were answered."""

    learners: int
    seconds: float
    latencies: dict = field(default_factory=lambda: {kind: [] for kind in KINDS})
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    # How late the load generator itself sent requests whose learner was idle: its own overload.
    lags: list = field(default_factory=list)
    connections: int = 0
    cpu: dict = field(default_factory=dict)
    memory: dict = field(default_factory=dict)

    def add(self, kind, latency, status, error, lag):
        # A failed request counts as infinitely slow: a server that fails fast must not look fast.
        self.latencies[kind].append(math.inf if error else latency)
        self.statuses[status or "no answer"] += 1
        if error:
            self.errors[error] += 1
        if lag is not None:
            self.lags.append(lag)

    @property
    def requests(self):
        return sum(len(values) for values in self.latencies.values())

    @property
    def rps(self):
        return self.requests / self.seconds

    @property
    def error_count(self):
        return sum(self.errors.values())

    def percentile_ms(self, share, kind=None):
        values = sorted(self.latencies[kind] if kind else [v for vs in self.latencies.values() for v in vs])
        if not values:
            return math.nan
        return 1000 * values[min(len(values) - 1, int(share * len(values)))]

    def lag_ms(self, share):
        ordered = sorted(self.lags)
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else math.nan


class Learner:
    """One signed-in learner's browser state: cookies, the lesson they are on, the quiz form it showed."""

    def __init__(self, session_id, lessons, labs, answers, rng):
        self.cookies = {"sessionid": session_id}
        self.lessons, self.labs, self.answers, self.rng = lessons, labs, answers, rng
        self.lesson = rng.randrange(len(lessons))
        self.form = None  # the quiz form of the page last read, until it is submitted
        self.csrf = None
        self.move_on = False

    def headers(self, *extra):
        return [("Cookie", "; ".join(f"{name}={value}" for name, value in self.cookies.items())), *extra]

    def take_cookies(self, response):
        for header in response.header_values("set-cookie"):
            pair, _, attributes = header.partition(";")
            name, _, value = pair.partition("=")
            if not value or "max-age=0" in attributes.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    async def read(self, conn):
        if self.move_on:
            self.lesson, self.move_on = (self.lesson + 1) % len(self.lessons), False
        response = await conn.request("GET", self.lessons[self.lesson], self.headers())
        self.take_cookies(response)
        if response.status != 200:
            return response.status, f"lesson page answered {response.status}"
        self.form = parse_quiz_form(response.text)
        self.csrf = self.form.csrf
        return 200, None

    async def quiz(self, conn):
        form, self.form = self.form, None
        if form is None:
            return None, "no quiz form to answer (the page before it failed)"
        body = form.body(self.answers, self.rng).encode()
        headers = self.headers(("HX-Request", "true"), ("Content-Type", FORM_TYPE))
        response = await conn.request("POST", f"/quizzes/{form.quiz_id}/submit/", headers, body)
        self.take_cookies(response)
        self.move_on = True
        if response.status != 200 or RESULT_MARKER not in response.text:
            return response.status, f"quiz submission answered {response.status} without a result"
        return 200, None

    async def lab(self, conn):
        slug, paste = self.rng.choice(self.labs)
        if self.csrf is None:
            return None, "no CSRF token for the lab check (no page read yet)"
        body, content_type = multipart([("csrfmiddlewaretoken", self.csrf), ("mode", "file"), ("paste", paste)])
        headers = self.headers(("HX-Request", "true"), ("Content-Type", content_type))
        response = await conn.request("POST", f"/labs/{slug}/check/", headers, body)
        self.take_cookies(response)
        if response.status != 200 or LAB_MARKER not in response.text:
            return response.status, f"lab check answered {response.status} without a report"
        return 200, None


async def _act(learner, kind, conn):
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            return await getattr(learner, kind)(conn)
    except TimeoutError:
        conn.close()
        return None, f"no answer within {REQUEST_TIMEOUT} s"
    except (OSError, ProtocolError, asyncio.IncompleteReadError) as error:
        conn.close()
        return None, type(error).__name__
    except Exception as error:  # noqa: BLE001 - e.g. a page without its quiz form: a figure, not a crash
        return None, f"{type(error).__name__}: {error}"[:120]


async def pace_learner(learner, conn, pace, window, stats):
    """Act on ``learner``'s schedule from window[0] until window[2]; record what is due from window[1] on."""
    loop = asyncio.get_running_loop()
    start, measure_from, end = window
    rng = learner.rng
    first = start + rng.uniform(0, pace.read)  # the class does not all open the page at once
    # The first quiz and lab come after the first read, which gives them a form and a CSRF token.
    events = [(first, "read"), (first + rng.uniform(0, pace.quiz), "quiz"), (first + rng.uniform(0, pace.lab), "lab")]
    heapq.heapify(events)
    while True:
        due, kind = heapq.heappop(events)
        if due >= end:
            return
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        lag = loop.time() - due if wait > 0 else None  # only when idle: lateness after a slow answer is the server's
        # A quiz due before a form was read (the last one submitted, the next page not read yet) reads
        # the page first, as the learner would.
        for step in ("read", kind) if kind == "quiz" and learner.form is None else (kind,):
            status, error = await _act(learner, step, conn)
            if due >= measure_from:
                stats.add(step, loop.time() - due, status, error, lag)
        heapq.heappush(events, (due + pace.interval(kind, rng), kind))


async def run_step(learners, host, port, pace, warmup, seconds, meter, memory):
    """All ``learners`` pacing for ``warmup`` + ``seconds``; the figures of the last ``seconds``."""
    loop = asyncio.get_running_loop()
    stats = StepStats(learners=len(learners), seconds=seconds)
    start = loop.time() + 0.5
    window = (start, start + warmup, start + warmup + seconds)
    conns = [Connection(host, port) for _ in learners]
    tasks = [
        asyncio.create_task(pace_learner(lr, c, pace, window, stats)) for lr, c in zip(learners, conns, strict=True)
    ]
    await asyncio.sleep(window[1] - loop.time())
    with meter.measure() as cpu, memory.sampling() as peak:
        await asyncio.sleep(window[2] - loop.time())
    # Requests due before the end still count once answered (or timed out).
    _, pending = await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT + 5)
    for task in pending:
        task.cancel()
    for conn in conns:
        conn.close()
    stats.cpu, stats.memory = cpu, peak
    stats.connections = sum(conn.opened for conn in conns)
    return stats
