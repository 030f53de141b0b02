"""Fault injection: the portal under a bounded load of signed-in learners while its cache, its
database and its workers fail one at a time.

Everything runs on servers of this suite's own (a Redis and a PostgreSQL cluster on spare ports,
gunicorn with production settings), so faults never reach the shared services. The scenario runs
once per module; each test checks one promise against what it recorded, and the figures are
printed as a table (run with -s to see it).
"""

import os
import shutil
import signal
import statistics
import threading
import time

import pytest

from tests.servers import PrivateRedis

from .load import Learner
from .services import PASSWORD, Portal, PrivatePostgres

pytestmark = [pytest.mark.faults, pytest.mark.slow]

LEARNERS = 4
FAULT_SECONDS = 4
SETTLE_SECONDS = 3
# Each learner sends at most this many requests over the whole scenario: the load stays bounded
# even if the portal answered instantly.
MAX_REQUESTS_PER_LEARNER = 1500
# A fault that has ended should be forgotten within the cache breaker's retry (5 s) plus a request.
RECOVERY_LIMIT_SECONDS = 8
CACHE_PHASES = ("redis-stop", "redis-stop/after", "redis-hang", "redis-hang/after")


def _missing_tools():
    needed = ["redis-server", "pg_createcluster", "pg_ctlcluster", "pg_dropcluster"]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root (the PostgreSQL cluster tools)")
    return missing


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    missing = _missing_tools()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the fault suite needs {', '.join(missing)}")
        pytest.skip(f"the fault suite needs {', '.join(missing)}")
    tmp_path = tmp_path_factory.mktemp("faults")
    redis = PrivateRedis(tmp_path)
    postgres = PrivatePostgres()
    portal = Portal(tmp_path, database_url=postgres.url, redis_url=redis.url)
    try:
        redis.start()
        postgres.create()
        portal.prepare([f"fault-learner-{n}" for n in range(LEARNERS)])
        portal.start()
        yield redis, postgres, portal
    finally:
        # Each stop on its own: one that fails must not leave the others running.
        for stop in (portal.stop, redis.stop, postgres.drop):
            try:
                stop()
            except Exception as exc:  # noqa: BLE001 - report and go on cleaning up
                print(f"cleanup: {stop.__qualname__} failed: {exc!r}")


def _lesson_with_quiz(postgres):
    rows = postgres.query(
        "SELECT j.slug, l.slug FROM journeys_quiz q JOIN journeys_lesson l ON l.id = q.lesson_id "
        "JOIN journeys_journey j ON j.id = l.journey_id WHERE l.is_published AND j.is_published "
        'ORDER BY j."order", l.id LIMIT 1'
    )
    assert rows, "the curriculum has no lesson with a quiz"
    return f"/journeys/{rows[0][0]}/{rows[0][1]}/"


class Timeline:
    """Phase boundaries (monotonic) so each sample can be judged by when it was sent."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.fault_ends = {}
        self.windows = {}

    def enter(self, phase):
        now = time.monotonic()
        if self.recorder.phase in self.windows:
            self.windows[self.recorder.phase] = (self.windows[self.recorder.phase][0], now)
        self.windows[phase] = (now, None)
        self.recorder.phase = phase


@pytest.fixture(scope="module")
def scenario(stack):
    from .load import Recorder

    redis, postgres, portal = stack
    lesson = _lesson_with_quiz(postgres)
    recorder = Recorder()
    learners = [Learner(portal.url, f"fault-learner-{n}", PASSWORD, recorder) for n in range(LEARNERS)]
    for learner in learners:
        learner.sign_in()
    timeline = Timeline(recorder)
    stop = threading.Event()
    threads = [
        threading.Thread(target=learner.run, args=(lesson, stop, MAX_REQUESTS_PER_LEARNER), daemon=True)
        for learner in learners
    ]
    killed = {}
    try:
        timeline.enter("baseline")
        for thread in threads:
            thread.start()
        time.sleep(SETTLE_SECONDS)

        timeline.enter("redis-stop")
        redis.stop()
        time.sleep(FAULT_SECONDS)
        redis.start()
        timeline.fault_ends["redis-stop"] = time.monotonic()
        timeline.enter("redis-stop/after")
        time.sleep(SETTLE_SECONDS)

        timeline.enter("redis-hang")
        redis.freeze()
        time.sleep(FAULT_SECONDS)
        redis.thaw()
        timeline.fault_ends["redis-hang"] = time.monotonic()
        timeline.enter("redis-hang/after")
        time.sleep(SETTLE_SECONDS)

        timeline.enter("db-stop")
        postgres.stop()
        timeline.windows["db-down"] = (time.monotonic(), None)
        time.sleep(FAULT_SECONDS)
        timeline.windows["db-down"] = (timeline.windows["db-down"][0], time.monotonic())
        postgres.start()
        timeline.fault_ends["db-stop"] = time.monotonic()
        timeline.enter("db-stop/after")
        time.sleep(SETTLE_SECONDS + 1)

        timeline.enter("worker-kill")
        before = portal.worker_pids()
        assert before, "gunicorn has no workers to kill"
        killed["pid"] = before[0]
        os.kill(before[0], signal.SIGKILL)
        # The fault is the kill itself: recovery counts from it.
        timeline.fault_ends["worker-kill"] = time.monotonic()
        time.sleep(FAULT_SECONDS)
        killed["after"] = portal.worker_pids()
        timeline.enter("done")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        # A fault left in place would spoil the final check and the cleanup.
        if redis.process is not None:
            redis.thaw()

    # After every fault: each learner reads the lesson and submits once more.
    timeline.enter("final")
    final = {}
    for learner in learners:
        status, page = learner.read(lesson)
        final[learner.username] = (status, learner.submit(page) if status == 200 else None)
    timeline.enter("end")

    users = dict(postgres.query("SELECT username, id FROM auth_user"))
    # The form's token is signed; the row keeps a UUID drawn from it. The attempt id in the answer's
    # Location is what ties an acknowledgement to its row.
    stored = dict(postgres.query("SELECT id, user_id FROM journeys_quizattempt"))
    result = {
        "recorder": recorder,
        "timeline": timeline,
        "final": final,
        "users": users,
        "stored": stored,
        "killed": killed,
        "portal_log": portal.log_text(),
    }
    print_figures(result)
    return result


def _in(samples, *phases):
    return [sample for sample in samples if sample.phase in phases]


def recovery_seconds(result, fault):
    """From the end of the fault to the first lesson page served (200) among requests sent after it."""
    end = result["timeline"].fault_ends.get(fault)
    if end is None:
        return None
    served = [
        sample.finished
        for sample in result["recorder"].samples
        if sample.kind == "page" and sample.status == 200 and sample.started >= end
    ]
    return min(served) - end if served else None


def print_figures(result):
    samples = result["recorder"].samples
    phases = []
    for sample in samples:
        if sample.phase not in phases:
            phases.append(sample.phase)
    faults = {"redis-stop", "redis-hang", "db-stop", "worker-kill"}
    lines = [
        "",
        f"{'phase':<18} {'requests':>8}  {'by status':<34} {'p50 ms':>7} {'max ms':>7} {'recovery s':>10}",
    ]
    for phase in phases:
        chosen = _in(samples, phase)
        counts = {}
        for sample in chosen:
            counts[sample.status] = counts.get(sample.status, 0) + 1
        by_status = " ".join(f"{'err' if code == 0 else code}:{n}" for code, n in sorted(counts.items()))
        latencies = [sample.latency * 1000 for sample in chosen]
        recovery = recovery_seconds(result, phase) if phase in faults else None
        recovery_text = "-" if phase not in faults else ("never" if recovery is None else f"{recovery:.2f}")
        lines.append(
            f"{phase:<18} {len(chosen):>8}  {by_status:<34} {statistics.median(latencies):>7.0f} "
            f"{max(latencies):>7.0f} {recovery_text:>10}"
        )
    acknowledged = result["recorder"].acknowledged
    distinct = len({ack.attempt_id for ack in acknowledged})
    lines.append(
        f"acknowledged submissions: {len(acknowledged)} ({distinct} distinct attempts); "
        f"stored attempts: {len(result['stored'])}"
    )
    killed_at = result["timeline"].windows.get("worker-kill", (None,))[0]
    for sample in samples:
        if sample.status == 0:
            # A killed worker takes the connections it holds with it, requests sent a moment
            # before the phase began included.
            cut = killed_at is not None and sample.started < killed_at <= sample.finished
            lines.append(
                f"no answer: {sample.kind} sent in {sample.phase}, after {sample.latency * 1000:.0f} ms "
                f"({sample.note}{', in flight when a worker was killed' if cut else ''})"
            )
    print("\n".join(lines))


def test_a_cache_outage_never_answers_5xx(scenario):
    # Only answers given before the database fault began: a request sent just before PostgreSQL
    # is stopped may meet that outage instead (and answer its 503).
    database_fault = scenario["timeline"].windows["db-stop"][0]
    samples = [s for s in _in(scenario["recorder"].samples, *CACHE_PHASES) if s.finished < database_fault]
    assert samples, "no request was sent while Redis was stopped or hung"
    failed = [
        (s.phase, s.kind, s.status, round(s.latency, 2), s.note) for s in samples if s.status >= 500 or s.status == 0
    ]
    assert failed == [], f"answers that failed while Redis was stopped or hung: {failed[:20]}"


def test_a_database_outage_answers_503_with_retry_after(scenario):
    start, end = scenario["timeline"].windows["db-down"]
    # Requests sent while the server was certainly down (not while it was stopping or starting).
    down = [s for s in scenario["recorder"].samples if start <= s.started and s.finished <= end]
    assert down, "no request was answered while PostgreSQL was down"
    # A page the cache still holds may be served (200): that is the cache doing its job. Anything
    # else must be the outage page, 503 with Retry-After, never a 500.
    wrong = [
        (s.kind, s.status, s.retry_after, s.note)
        for s in down
        if s.status >= 300 and (s.status != 503 or not s.retry_after)
    ]
    assert wrong == [], f"answers during the database outage that were not 503 with Retry-After: {wrong[:20]}"
    refused = [s for s in down if s.kind == "submit" and s.status == 503]
    assert refused, "no submission was answered 503 while the database was down"
    accepted = [s for s in down if s.kind == "submit" and 200 <= s.status < 400]
    assert accepted == [], f"submissions acknowledged while the database was down: {accepted[:10]}"
    # Stopping and starting are part of the outage too: no plain 500 at any point of it.
    around = _in(scenario["recorder"].samples, "db-stop", "db-stop/after")
    errors = [(s.kind, s.status) for s in around if s.status >= 500 and (s.status != 503 or not s.retry_after)]
    assert errors == [], f"server errors around the database outage other than 503 with Retry-After: {errors[:20]}"


def test_every_acknowledged_submission_is_stored(scenario):
    acknowledged = scenario["recorder"].acknowledged
    assert len(acknowledged) >= LEARNERS, "too few submissions were acknowledged for the check to mean anything"
    users, stored = scenario["users"], scenario["stored"]
    lost = [
        (ack.learner, ack.phase, ack.status, ack.attempt_id)
        for ack in acknowledged
        if ack.attempt_id is None or stored.get(ack.attempt_id) != users[ack.learner]
    ]
    assert lost == [], f"{len(lost)} acknowledged submissions missing or misfiled in the database: {lost[:10]}"


def test_no_learner_is_left_unable_to_submit(scenario):
    users, stored = scenario["users"], scenario["stored"]
    wedged = {}
    for learner, (status, ack) in scenario["final"].items():
        if ack is None:
            wedged[learner] = f"lesson page {status}, submission not acknowledged"
        elif ack.attempt_id is None or stored.get(ack.attempt_id) != users[learner]:
            wedged[learner] = f"acknowledged ({ack.status}) but not stored"
    assert wedged == {}, f"learners whose next submission after the faults was not recorded: {wedged}"


@pytest.mark.parametrize("fault", ["redis-stop", "redis-hang", "db-stop", "worker-kill"])
def test_recovery_within_seconds(scenario, fault):
    seconds = recovery_seconds(scenario, fault)
    assert seconds is not None, f"no lesson page was served after {fault} ended"
    assert seconds <= RECOVERY_LIMIT_SECONDS, f"the first page after {fault} came {seconds:.1f} s after it ended"


def test_killed_worker_is_replaced_without_server_errors(scenario):
    killed = scenario["killed"]
    assert killed["pid"] not in killed["after"] and len(killed["after"]) == 2, f"workers after the kill: {killed}"
    # The request the dying worker held may lose its connection (0); none may get a 5xx.
    samples = _in(scenario["recorder"].samples, "worker-kill")
    errors = [(s.kind, s.status) for s in samples if s.status >= 500]
    assert errors == [], f"server errors after a worker was killed: {errors}"


def test_a_learners_own_form_is_never_refused(scenario):
    """Every form submitted was the one the portal gave that learner: a 4xx says it was wedged."""
    refused = [(s.phase, s.status, s.note) for s in scenario["recorder"].samples if 400 <= s.status < 500]
    assert refused == [], f"the portal refused learners' own quiz forms: {refused[:10]}"
