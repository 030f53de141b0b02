"""The printed report of `make bench`: the scenario table, where one request's time goes, CPU per program,
what one fresh submission costs, durability, memory and the targets' verdicts (BENCHMARKS.md explains each)."""

import os
import statistics
from collections import Counter

from bench.config import (
    CONNECTIONS,
    DB_NAME,
    DURABILITY_LEARNERS,
    LEARNERS,
    QUIZ_P99_TARGET_MS,
    RSS_TARGET_MB,
    TARGETS,
    THREADS,
    WARMUP_SECONDS,
    WORKERS,
    WRK_SECONDS,
    WRK_THREADS,
)
from bench.scenarios import LABELS, QUIZ_LOOPS


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))


def cpu_ms_per_request(result):
    """CPU of every program on the machine (steal aside) per request of a wrk run, in ms."""
    busy = sum(result.cpu[group] for group in ("gunicorn", "postgres", "redis", "load", "other")) / 100
    return busy / result.rps * 1000


def print_submission_floor(fresh, healthz):
    """How long a closed loop of CONNECTIONS submissions must wait, from the CPU each one costs."""
    cores = os.cpu_count()
    per_request = {group: fresh.cpu[group] / 100 / fresh.rps * 1000 for group in ("gunicorn", "postgres", "redis")}
    total_ms = cpu_ms_per_request(fresh)
    print()
    print(
        f"One fresh quiz submission used {total_ms:.1f} ms of CPU in all: workers {per_request['gunicorn']:.1f}, "
        f"PostgreSQL {per_request['postgres']:.1f}, Redis {per_request['redis']:.1f}, wrk and the rest "
        f"{total_ms - sum(per_request.values()):.1f}."
    )
    print(
        f"With {CONNECTIONS} always in flight on {cores} cores, the mean wait is at least {CONNECTIONS} × {total_ms:.1f} "
        f"÷ {cores} = {CONNECTIONS * total_ms / cores:.0f} ms (measured: {fresh.mean_ms:.0f} ms); a p99 of "
        f"{QUIZ_P99_TARGET_MS} ms needs at most {QUIZ_P99_TARGET_MS * cores / CONNECTIONS:.2f} ms of CPU per submission."
    )
    print(
        f"For scale: a /healthz request, which runs the middleware and nothing else, used {cpu_ms_per_request(healthz):.1f} ms."
    )


def print_report(info, setup_timings, breakdown, wrk_results, loops, durable, rss, background, elapsed):
    ceiling = wrk_results["healthz"].rps
    print()
    print("Kube Journeys web benchmark")
    for key, value in info.items():
        print(f"  {key}: {value}")
    print(
        f"Setup: {LEARNERS} seeded learners; gunicorn {WORKERS} workers of the portal's own (threaded, {THREADS} threads each), "
        "DEBUG off, sessions and cache in Redis; "
        f"wrk {WRK_THREADS} threads × {CONNECTIONS} connections, {WRK_SECONDS} s after a {WARMUP_SECONDS} s warm-up"
    )
    print()
    rows = [
        [LABELS[name], fmt(result.rps), f"{result.rps / ceiling:.2f}", fmt(result.p50_ms), fmt(result.p99_ms),
         str(result.non_2xx), str(breakdown[name].queries)]
        for name, result in wrk_results.items()
    ]  # fmt: skip
    for loop in QUIZ_LOOPS:
        stats = loops[loop.name]
        rows.append([
            loop.label, fmt(stats.submissions_per_second), "—",
            fmt(stats.percentile_ms(0.5)), fmt(stats.percentile_ms(0.99)), str(stats.non_2xx),
            str(breakdown["quiz_fresh"].queries),
        ])  # fmt: skip
    table(["Scenario", "req/s", "÷ ceiling", "p50 ms", "p99 ms", "non-2xx", "SQL/req"], rows)
    print("POST quiz, fresh form: every request a form never submitted before, so each grades and records an")
    print("attempt; the session did not hand these forms out, which costs each one query more than SQL/req says")
    print("(the check that it was not submitted already). After Try again: Python learners; req/s counts POSTs")
    print("only, and before each the learner fetches a new form (the lesson page first, then the quiz panel")
    print("that Try again loads). non-2xx counts GETs, POSTs and client errors.")

    print()
    print("Where the time of one request goes (in-process test client, median of 7, one request at a time)")
    rows = [
        [LABELS[name], str(item.status), fmt(item.total_ms), str(item.queries), fmt(item.sql_ms), fmt(item.template_ms),
         str(item.template_queries)]
        for name, item in breakdown.items()
    ]  # fmt: skip
    table(["Scenario", "status", "total ms", "queries", "SQL ms", "template ms", "queries in template"], rows)

    print()
    print(
        "CPU during each measurement, % of one core (this machine has "
        f"{os.cpu_count()} cores = {100 * os.cpu_count()}%); worker CPU ms per request = gunicorn CPU ÷ requests"
    )
    labelled = {
        **{loop.label: loops[loop.name] for loop in QUIZ_LOOPS},
        "durability loop": durable.stats,
    }
    rows = [[LABELS[name], result.cpu, result.requests] for name, result in wrk_results.items()]
    for label, loop in labelled.items():
        rows.append([label, loop.cpu, len(loop.post_latencies) + sum(loop.get_status.values())])
    healthz = wrk_results["healthz"]
    ceiling_cost = healthz.cpu["gunicorn_seconds"] / max(1, healthz.requests)
    cost_rows = []
    for label, cpu, requests in rows:
        cost = cpu["gunicorn_seconds"] / requests if requests else None
        cost_rows.append([
            label, *(fmt(cpu[key], 0) for key in ("gunicorn", "postgres", "redis", "load", "other", "steal")),
            fmt(1000 * cost if cost else None, 2), f"{ceiling_cost / cost:.3f}" if cost else "—",
        ])  # fmt: skip
    table(
        [
            "Scenario",
            "gunicorn",
            "PostgreSQL",
            "Redis",
            "load gen.",
            "other",
            "steal",
            "worker CPU ms/req",
            "cost ratio",
        ],
        cost_rows,
    )
    print("cost ratio = worker CPU per /healthz request ÷ worker CPU per request of the scenario: the ÷ ceiling")
    print("figure to expect when the workers have the CPU to themselves. Loops: requests = GETs + POSTs.")
    print_submission_floor(wrk_results["quiz_fresh"], wrk_results["healthz"])
    measured = [background, *(result.cpu for result in wrk_results.values()), *(loop.cpu for loop in labelled.values())]
    busy_others = statistics.mean(cpu["other"] for cpu in measured)
    if max(cpu["other"] for cpu in measured) > 25:
        busiest = Counter()
        for cpu in measured:
            for name, share in cpu["busiest"]:
                busiest[name] = max(busiest[name], share)
        named = ", ".join(f"{name} up to {share:.0f}%" for name, share in busiest.most_common(3)) or "unnamed"
        print(
            f"NOTE: other programs used {busy_others:.0f}% of a core on average ({named}): req/s and latencies are "
            "worse than on an idle machine; SQL counts and worker CPU per request are not affected."
        )

    stats = durable.stats
    acknowledged = len(stats.acknowledged)
    print()
    print(f"Durability: {DURABILITY_LEARNERS} logged-in learners, {durable.lessons} lessons, {stats.seconds:.0f} s")
    print(
        f"  submissions sent {len(stats.post_latencies)} ({stats.submissions_per_second:.1f}/s), acknowledged "
        f"(200 with the result) {acknowledged}, 5xx {stats.server_errors}, other non-2xx "
        f"{stats.non_2xx - stats.server_errors - len(stats.client_errors)}, client errors {len(stats.client_errors)}"
    )
    print(
        f"  QuizAttempt rows created in the window {durable.rows_created}; acknowledged attempts found in the "
        f"database {durable.acknowledged_found} of {acknowledged}: "
        + ("every acknowledged submission is stored" if durable.all_stored else "ACKNOWLEDGED SUBMISSIONS MISSING")
    )
    print(f"  submission latency p50 {fmt(stats.percentile_ms(0.5))} ms, p99 {fmt(stats.percentile_ms(0.99))} ms")
    print(f"  statuses: {dict(sorted(stats.statuses.items()))}")
    loop_errors = [error for loop in loops.values() for error in loop.client_errors]
    for error, count in Counter(stats.client_errors + loop_errors).most_common(3):
        print(f"  client error ×{count}: {error}")

    print()
    worst_rss = max(rss.values()) if rss else float("nan")
    print(
        "gunicorn workers after the run (VmRSS): "
        + ", ".join(f"pid {pid} {mb:.1f} MB" for pid, mb in sorted(rss.items()))
    )

    non_2xx = sum(result.non_2xx for result in [*wrk_results.values(), *loops.values()]) + stats.non_2xx
    ratio = {name: wrk_results[name].rps / ceiling for name in TARGETS}
    p99 = wrk_results["quiz_fresh"].p99_ms
    verdicts = [
        (f"anonymous lesson ≥ {TARGETS['anon_lesson']:.2f} of ceiling", f"{ratio['anon_lesson']:.2f}",
         ratio["anon_lesson"] >= TARGETS["anon_lesson"]),
        (f"logged-in lesson ≥ {TARGETS['user_lesson']:.2f} of ceiling", f"{ratio['user_lesson']:.2f}",
         ratio["user_lesson"] >= TARGETS["user_lesson"]),
        (f"dashboard ≥ {TARGETS['dashboard']:.2f} of ceiling", f"{ratio['dashboard']:.2f}",
         ratio["dashboard"] >= TARGETS["dashboard"]),
        (f"quiz submission p99 ≤ {QUIZ_P99_TARGET_MS} ms (wrk, {CONNECTIONS} connections, fresh forms)",
         f"{p99:.1f} ms", p99 <= QUIZ_P99_TARGET_MS),
        *((f"  learners answering after Try again, {loop.who} (for reference)",
           f"{loops[loop.name].percentile_ms(0.99):.1f} ms",
           loops[loop.name].percentile_ms(0.99) <= QUIZ_P99_TARGET_MS) for loop in QUIZ_LOOPS),
        ("zero non-2xx (every wrk run and load loop)", str(non_2xx), non_2xx == 0),
        (f"worker RSS ≤ {RSS_TARGET_MB} MB (largest worker)", f"{worst_rss:.1f} MB", worst_rss <= RSS_TARGET_MB),
        ("every acknowledged quiz submission stored", f"{durable.acknowledged_found}/{acknowledged}", durable.all_stored),
    ]  # fmt: skip
    print()
    table(
        ["Target", "measured", "verdict"], [[name, value, "MET" if met else "NOT MET"] for name, value, met in verdicts]
    )
    print()
    setup = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in setup_timings.items())
    print(f"Setup: {setup}. Whole benchmark {elapsed:.0f} s. The database {DB_NAME} is kept for inspection.")
