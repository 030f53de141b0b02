"""Class pacing capacity: how many learners pacing like a class this machine serves with p99 ≤ 200 ms.

Run with `make bench-capacity` (`python -m bench.capacity` from the repository). It rebuilds the bench
database with BENCH_CAPACITY_LEARNERS seeded learners (4,000 unless set), starts gunicorn as `make bench`
does, and runs the class of bench/pacing.py in steps of 50, 100, 200, 400 … learners, each for a
warm-up and a measured minute, until the p99 of their requests passes the limit; then it bisects
between the last step that held and the first that did not. The figure a team sizes a server by is
the largest class that held, with its latencies, request rate, errors and memory. Like `make bench`
it exits 0 whatever it finds, and non-zero only when it could not run.
"""

import asyncio
import os
import random
import tempfile
import time
from pathlib import Path

from bench import portal_api
from bench.capacity_report import print_capacity_report, print_step
from bench.config import DB_NAME, HOST, JOURNEY, REPO, bench_env, log
from bench.database import prepared_run
from bench.machine import CpuMeter, require_services
from bench.memory import MemoryProbe
from bench.pacing import Learner, Pace, run_step
from bench.quiz_forms import AnswerBook
from bench.server import gunicorn

SEEDED = int(os.environ.get("BENCH_CAPACITY_LEARNERS", "4000"))
P99_LIMIT_MS = 200
FIRST_STEPS = (50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)
# One read interval of warm-up: every learner has opened a page (its first view recorded, its session
# warm) before the window; 60 s then holds a few thousand requests, enough for a steady p99.
WARMUP_SECONDS = int(os.environ.get("BENCH_CAPACITY_WARMUP", "20"))
WINDOW_SECONDS = int(os.environ.get("BENCH_CAPACITY_SECONDS", "60"))
# The search stops bisecting when the bracket is this narrow (learners, or a tenth of the lower end)…
RESOLUTION = 25
BISECTIONS = 3
# … or when it has run this long; the largest class that held is reported either way.
BUDGET_SECONDS = int(os.environ.get("BENCH_CAPACITY_BUDGET", str(16 * 60)))
LABS = ("stateful-web", "node-agent", "batch-pi", "nightly-backup", "declarative-frontend",
        "least-privilege", "team-quota", "helm-release", "healthy-app")  # fmt: skip
PACE = Pace()


def signed_in_sessions(usernames):
    """{username: session id}, signed in by Django's test client into the server's session store.

    The login form would cost a quarter second of the server's CPU per learner (PBKDF2): thousands
    of learners would take minutes and measure password hashing, which a class does once a day.
    """
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    users = get_user_model().objects.filter(username__in=usernames).in_bulk(field_name="username")
    sessions = {}
    for username in usernames:
        client = Client(HTTP_HOST=HOST)
        client.force_login(users[username])
        sessions[username] = client.cookies["sessionid"].value
    connection.close()  # no idle backend of this process counted with the server's
    return sessions


class Class:
    """The learners of every step so far: a larger step adds learners, the earlier ones keep their state."""

    def __init__(self, answers):
        self.answers = answers
        self.lessons = [f"/journeys/{JOURNEY}/{slug}/" for slug in portal_api.quiz_lesson_slugs(JOURNEY)]
        fixtures = REPO / "tests" / "sandbox" / "fixtures"
        self.labs = [(slug, (fixtures / slug / "pass.yaml").read_text()) for slug in LABS]
        self.learners = []

    def first(self, count):
        missing = [f"learner-{index:04d}" for index in range(len(self.learners) + 1, count + 1)]
        if missing:
            log(f"signing in {len(missing)} more learners")
            for username, session in signed_in_sessions(missing).items():
                rng = random.Random(username)  # noqa: S311 - which lesson, answers and intervals
                self.learners.append(Learner(session, self.lessons, self.labs, self.answers, rng))
        return self.learners[:count]


def step(klass, count, port, meter, memory):
    log(f"{count} learners: {WARMUP_SECONDS} s warm-up, then {WINDOW_SECONDS} s")
    learners = klass.first(count)
    stats = asyncio.run(run_step(learners, HOST, port, PACE, WARMUP_SECONDS, WINDOW_SECONDS, meter, memory))
    print_step(stats, P99_LIMIT_MS)
    time.sleep(3)  # whatever the step left queued drains before the next one
    return stats


def holds(stats):
    return stats.percentile_ms(0.99) <= P99_LIMIT_MS


def search(run, most):
    """{learners: stats} of every step run: doubling until one fails, then bisecting the bracket."""
    started, steps = time.monotonic(), {}
    for count in [n for n in FIRST_STEPS if n < most] + [most]:
        steps[count] = run(count)
        if not holds(steps[count]):
            break
        if time.monotonic() - started > BUDGET_SECONDS:
            log("time budget spent: the search stops here")
            return steps
    held = [n for n, stats in steps.items() if holds(stats)]
    low, high = max(held, default=0), min((n for n, stats in steps.items() if not holds(stats)), default=None)
    for _ in range(BISECTIONS):
        if high is None or high - low <= max(RESOLUTION, low // 10) or time.monotonic() - started > BUDGET_SECONDS:
            break
        middle = max(RESOLUTION, round((low + high) / 2 / RESOLUTION) * RESOLUTION)
        if middle in steps:
            break
        steps[middle] = run(middle)
        low, high = (middle, high) if holds(steps[middle]) else (low, middle)
    return steps


def main():
    require_services()
    overall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kj-capacity-") as tmp:
        workdir = Path(tmp)
        env = bench_env(workdir)
        setup_timings, info = prepared_run(env, learners=SEEDED)
        from django.db import connection

        klass = Class(AnswerBook())
        connection.close()

        log("CPU used by other programs before the load starts (3 s)")
        with CpuMeter(None).measure() as background:
            time.sleep(3)
        print(f"   {background['other'] + background['postgres'] + background['redis']:.0f}% of one core")

        with gunicorn(env, workdir) as (process, base):
            port = int(base.rsplit(":", 1)[1])
            meter, memory = CpuMeter(process.pid), MemoryProbe(process.pid, DB_NAME)
            steps = search(lambda count: step(klass, count, port, meter, memory), SEEDED)

    elapsed = time.perf_counter() - overall
    settings = {"seeded": SEEDED, "warmup": WARMUP_SECONDS, "window": WINDOW_SECONDS, "labs": len(LABS)}
    print_capacity_report(info, settings, PACE, P99_LIMIT_MS, steps, background, setup_timings, elapsed)


if __name__ == "__main__":
    main()
