"""Python load loops: learners (one thread each) answering quizzes, and the durability check after them.

Threads, not wrk, because each submission depends on the page before it (its CSRF token and one-time
quiz token) and because the acknowledged attempt ids are read from each answer and looked up afterwards.
"""

import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from bench import portal_api
from bench.config import DURABILITY_SECONDS, JOURNEY, MAX_ITERATIONS, REQUEST_TIMEOUT, RESULT_MARKER, log
from bench.quiz_forms import parse_quiz_form

ATTEMPT_LINK = re.compile(r'href="/attempts/(\d+)/"')


@dataclass
class LoopStats:
    post_latencies: list = field(default_factory=list)
    post_status: Counter = field(default_factory=Counter)
    get_status: Counter = field(default_factory=Counter)
    # Attempt ids read from acknowledged results (None when the result named none).
    acknowledged: list = field(default_factory=list)
    client_errors: list = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict = field(default_factory=dict)

    @property
    def statuses(self):
        return self.get_status + self.post_status

    @property
    def server_errors(self):
        return sum(count for status, count in self.statuses.items() if status >= 500)

    @property
    def non_2xx(self):
        bad = sum(count for status, count in self.statuses.items() if not 200 <= status < 300)
        return bad + len(self.client_errors)

    @property
    def submissions_per_second(self):
        return len(self.post_latencies) / self.seconds if self.seconds else 0.0

    def percentile_ms(self, share):
        ordered = sorted(self.post_latencies)
        if not ordered:
            return float("nan")
        return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def quiz_learners(browsers, lesson_paths, answers, seconds, seed, *, try_again=False, pause=(0.0, 0.0)):
    """Each browser, in its own thread, answers quizzes again and again until the deadline.

    Without ``try_again`` every submission starts from a lesson page (a learner moving through the
    journey). With it the learner stays on one lesson and does what its page offers after a result:
    "Try again" fetches a new form into the page (the quiz panel, by htmx) and they answer that.
    ``pause``: seconds (lowest, highest) a learner spends reading before each request.
    """
    stats = LoopStats()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def learner(index, browser):
        rng = random.Random(seed * 1000 + index)  # noqa: S311 - which lesson, which answers, how long a pause
        lesson = rng.choice(lesson_paths)
        next_form = None
        for _ in range(MAX_ITERATIONS):
            try:
                time.sleep(rng.uniform(*pause))
                if time.monotonic() >= deadline:
                    return
                if try_again and next_form is not None:
                    status, page, _ = browser.request(next_form, headers={"HX-Request": "true"})
                else:
                    status, page, _ = browser.request(lesson if try_again else rng.choice(lesson_paths))
                with lock:
                    stats.get_status[status] += 1
                if status != 200:
                    next_form = None
                    continue
                form = parse_quiz_form(page)
                time.sleep(rng.uniform(*pause))
                status, body, elapsed = browser.submit_quiz(form, answers, rng)
                next_form = f"/quizzes/{form.quiz_id}/"
                with lock:
                    stats.post_status[status] += 1
                    stats.post_latencies.append(elapsed)
                    if status == 200 and RESULT_MARKER in body:
                        link = ATTEMPT_LINK.search(body)
                        stats.acknowledged.append(int(link.group(1)) if link else None)
            except Exception as exc:  # noqa: BLE001 - a failed request is a figure, not a crash
                with lock:
                    stats.client_errors.append(f"{type(exc).__name__}: {exc}")

    started = time.monotonic()
    threads = [threading.Thread(target=learner, args=(index, browser)) for index, browser in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 2 * REQUEST_TIMEOUT + 2 * pause[1] + 10)
    stats.seconds = time.monotonic() - started
    return stats


@dataclass
class Durability:
    stats: LoopStats
    lessons: int
    rows_created: int
    acknowledged_found: int

    @property
    def all_stored(self):
        acknowledged = self.stats.acknowledged
        return None not in acknowledged and self.acknowledged_found == len(acknowledged)


def durability(crowd, usernames, answers, meter):
    """Learners submit quizzes on every lesson; afterwards every acknowledged attempt must be in the database."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    lessons = [f"/journeys/{JOURNEY}/{slug}/" for slug in portal_api.quiz_lesson_slugs(JOURNEY)]
    log(f"durability: {len(crowd)} learners submitting quizzes on {len(lessons)} lessons for {DURABILITY_SECONDS} s")
    user_ids = list(get_user_model().objects.filter(username__in=usernames).values_list("id", flat=True))
    before = portal_api.quiz_attempt_count(user_ids)
    connection.close()  # not held open, idle, through the window
    with meter.measure() as cpu:
        stats = quiz_learners(crowd, lessons, answers, DURABILITY_SECONDS, seed=23)
    stats.cpu = cpu
    rows = portal_api.quiz_attempt_count(user_ids) - before
    ids = [attempt_id for attempt_id in stats.acknowledged if attempt_id is not None]
    found = portal_api.quiz_attempts_found(ids, user_ids)
    print(f"   {len(stats.acknowledged)} acknowledged, {rows} rows created, {found} acknowledged attempts found")
    return Durability(stats=stats, lessons=len(lessons), rows_created=rows, acknowledged_found=found)
