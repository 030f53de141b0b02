"""The printed report of `make bench-capacity`: every step, the capacity figure, and the memory at that load."""

import math
import os
from collections import Counter

from bench.config import DB_NAME, REDIS_DB, THREADS, WORKERS
from bench.report import fmt, table

# Other programs using more than this share of a core during a step make its figures noisy.
NOISY_PERCENT = 25


def print_step(stats, limit_ms):
    p99 = stats.percentile_ms(0.99)
    print(
        f"   {stats.rps:.1f} req/s, p50 {stats.percentile_ms(0.5):.1f} ms, p99 {fmt(p99)} ms "
        f"({'held' if p99 <= limit_ms else 'over the limit'}), errors {stats.error_count}, "
        f"other programs {stats.cpu['other']:.0f}% of a core"
    )


def _ms(value):
    return "—" if math.isnan(value) else fmt(value)


def server_cpu_ms_per_learner(stats):
    """CPU of the server side (gunicorn, PostgreSQL, Redis) per learner per second of the window, in ms."""
    return 10 * sum(stats.cpu[key] for key in ("gunicorn", "postgres", "redis")) / stats.learners


def _row(count, stats, limit_ms):
    p99 = stats.percentile_ms(0.99)
    cpu = stats.cpu
    return [
        str(count), fmt(stats.rps), _ms(stats.percentile_ms(0.5)), _ms(p99),
        *(_ms(stats.percentile_ms(0.99, kind)) for kind in ("read", "quiz", "lab")),
        str(stats.error_count), *(fmt(cpu[key], 0) for key in ("gunicorn", "postgres", "redis", "load", "other")),
        fmt(server_cpu_ms_per_learner(stats), 2), _ms(stats.lag_ms(0.99)), "held" if p99 <= limit_ms else "over",
    ]  # fmt: skip


def print_capacity_report(info, settings, pace, limit_ms, steps, background, setup_timings, elapsed):
    print()
    print("Kube Journeys class pacing capacity")
    for key, value in info.items():
        print(f"  {key}: {value}")
    print(
        f"Setup: {settings['seeded']} seeded learners; gunicorn {WORKERS} workers of the portal's own (threaded, "
        f"{THREADS} threads each), DEBUG off, sessions and cache in Redis (database {REDIS_DB}), database {DB_NAME}."
    )
    print(
        f"Each signed-in learner reads a lesson page every {pace.read:g} s, submits its quiz every {pace.quiz:g} s "
        f"(then moves to the next lesson) and pastes YAML for a lab check (one of {settings['labs']} labs) every "
        f"{pace.lab:g} s, each interval ±{100 * pace.jitter:.0f}%: {pace.requests_per_learner_second:.4f} "
        "requests per learner per second."
    )
    print(
        "Open loop (asyncio, one keep-alive connection per learner): latency is measured from when a request was "
        f"due, not when it was sent. Each step: {settings['warmup']} s warm-up, then {settings['window']} s measured; "
        "a failed request counts as infinitely slow."
    )
    print()
    ordered = sorted(steps.items())
    table(
        ["learners", "req/s", "p50 ms", "p99 ms", "page p99", "quiz p99", "lab p99", "errors",
         "gunicorn%", "PG%", "Redis%", "load gen%", "other%", "server CPU ms/learner/s", "gen. lag p99 ms",
         f"p99 ≤ {limit_ms} ms"],
        [_row(count, stats, limit_ms) for count, stats in ordered],
    )  # fmt: skip
    print("% = CPU in % of one core during the measured window (this machine has "
          f"{os.cpu_count()} cores = {100 * os.cpu_count()}%); gen. lag = how late the load generator itself sent "
          "requests whose learner was idle (its own overload, counted in the latencies).")  # fmt: skip

    held = [(count, stats) for count, stats in ordered if stats.percentile_ms(0.99) <= limit_ms]
    print()
    if not held:
        count, stats = ordered[0]
        print(f"Class pacing capacity: fewer than {count} learners (no step held p99 ≤ {limit_ms} ms).")
    else:
        count, stats = held[-1]
        at_most = count == settings["seeded"] and count == ordered[-1][0]
        print(
            f"Class pacing capacity: {'at least ' if at_most else ''}{count} learners with p99 ≤ {limit_ms} ms"
            + (" (every seeded learner: seed more to find the limit)" if at_most else "")
        )
    print(
        f"  at {count} learners: {stats.rps:.1f} req/s, p50 {stats.percentile_ms(0.5):.1f} ms, "
        f"p99 {stats.percentile_ms(0.99):.1f} ms (page {fmt(stats.percentile_ms(0.99, 'read'))}, "
        f"quiz {fmt(stats.percentile_ms(0.99, 'quiz'))}, lab {fmt(stats.percentile_ms(0.99, 'lab'))}), "
        f"{stats.requests} requests, errors {stats.error_count}, TCP connections opened {stats.connections} (warm-up included)"
    )
    per_learner = server_cpu_ms_per_learner(stats)
    cores = os.cpu_count()
    print(
        f"  server CPU (gunicorn, PostgreSQL, Redis) {per_learner:.2f} ms per learner per second: with nothing "
        f"else running, {cores} cores would be saturated at about {1000 * cores / per_learner:.0f} learners "
        "(an upper bound: p99 passes the limit well before saturation)"
    )
    for error, times in stats.errors.most_common(3):
        print(f"  error ×{times}: {error}")
    print(f"  statuses: {dict(sorted(Counter({str(k): v for k, v in stats.statuses.items()}).items()))}")
    _print_memory(stats.memory)
    busy = [(count, stats.cpu["other"]) for count, stats in ordered]
    noisiest = max(share for _, share in busy)
    print()
    print(
        f"Other programs' CPU: {background['other'] + background['postgres'] + background['redis']:.0f}% of one core "
        f"before the load; during the steps {', '.join(f'{c}: {s:.0f}%' for c, s in busy)}."
    )
    if noisiest > NOISY_PERCENT:
        names = Counter()
        for _, stats in ordered:
            for name, share in stats.cpu["busiest"]:
                names[name] = max(names[name], share)
        named = ", ".join(f"{name} up to {share:.0f}%" for name, share in names.most_common(3)) or "unnamed"
        print(
            f"NOTE: NOISY RUN: other programs used up to {noisiest:.0f}% of a core ({named}); the capacity is lower "
            "than this machine alone would give."
        )
    setup = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in setup_timings.items())
    print(f"Setup: {setup}. Whole run {elapsed:.0f} s. The database {DB_NAME} is kept for inspection.")


def _print_memory(memory):
    if not memory:
        return
    print("  memory at that load (peak of samples every 5 s in the window):")
    print(
        f"    gunicorn workers: {memory['workers']} processes, {memory['workers_mb']:.0f} MB RSS together, "
        f"largest {memory['largest_worker_mb']:.0f} MB"
    )
    print(
        f"    PostgreSQL backends of {DB_NAME}: {memory['pg_backends']:.0f}, RSS {memory['pg_backends_rss_mb']:.0f} MB "
        f"together (counts shared buffers once per backend; Pss {memory['pg_backends_pss_mb']:.0f} MB), largest "
        f"{memory['largest_pg_backend_mb']:.0f} MB; every postgres process on the machine: RSS "
        f"{memory['pg_server_rss_mb']:.0f} MB, Pss {memory['pg_server_pss_mb']:.0f} MB"
    )
    keys = memory["redis_keys"]
    print(
        f"    Redis (the shared instance): RSS {memory['redis_rss_mb']:.0f} MB, data {memory['redis_used_mb']:.0f} MB; "
        f"{keys if not math.isnan(keys) else '?'} keys in database {REDIS_DB}"
    )
