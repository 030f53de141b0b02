"""Prometheus metrics: request latency, quiz submissions, lab runs and cache errors.

Under gunicorn each worker is a process with its own counters; when PROMETHEUS_MULTIPROC_DIR is
set (the container entrypoint sets it), prometheus_client shares them through files there, so a
scrape of any worker reports the whole replica.
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

REQUEST_LATENCY = Histogram(
    "kube_journeys_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["method", "view", "status_class"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUIZ_SUBMISSIONS = Counter(
    "kube_journeys_quiz_submissions_total", "Recorded quiz attempts, by result.", ["result", "final"]
)
LAB_RUNS = Counter("kube_journeys_lab_runs_total", "Lab check runs, by outcome and source.", ["outcome", "source"])
CACHE_ERRORS = Counter(
    "kube_journeys_cache_errors_total",
    "Cache calls that failed, or were skipped because the cache had failed moments before, by operation.",
    ["operation", "outcome"],
)


def observe_request(*, method, view, status, seconds):
    REQUEST_LATENCY.labels(method=method, view=view, status_class=f"{status // 100}xx").observe(seconds)


def quiz_submitted(*, passed, final):
    QUIZ_SUBMISSIONS.labels(result="passed" if passed else "failed", final=str(bool(final)).lower()).inc()


def lab_run_recorded(*, outcome, source):
    LAB_RUNS.labels(outcome=outcome, source=source).inc()


def cache_error(*, operation, outcome):
    CACHE_ERRORS.labels(operation=operation, outcome=outcome).inc()


def exposition():
    """(body, content type) of every metric of this replica."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    from prometheus_client import REGISTRY

    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
