"""Benchmark: the portal under gunicorn with production settings, on PostgreSQL and Redis, with 1,000 learners.

Run with `make bench`. It rebuilds the database `kube_journeys_bench` (or BENCH_DB_NAME), starts gunicorn on a free
port of 127.0.0.1, drives it with wrk and with Python load loops, and prints figures: requests per
second (also as a ratio to /healthz, the ceiling of this machine), latency percentiles, non-2xx
responses, SQL queries per request, where the time of one request goes, worker memory, and whether
every acknowledged quiz submission reached the database. It never fails because a target is missed:
the exit code is non-zero only when the benchmark itself could not run. BENCHMARKS.md explains
each figure.

Run it as `python -m bench.web_bench` from the repository (the Makefile does). The code is the package `bench` (one module per job; BENCHMARKS.md lists them); this module runs it.
"""

import tempfile
import time
from pathlib import Path

from bench.browser import login_all
from bench.config import DURABILITY_LEARNERS, LESSON_PATH, bench_env, log
from bench.database import prepared_run
from bench.in_process import measure_in_process
from bench.loops import durability, quiz_learners
from bench.machine import CpuMeter, require_services, require_wrk
from bench.memory import worker_rss_mb
from bench.portal_api import active_learner
from bench.quiz_forms import AnswerBook
from bench.report import print_report
from bench.scenarios import QUIZ_LOOPS, http_scenarios, run_fresh_forms, run_wrk
from bench.server import gunicorn


def main():
    require_services()
    require_wrk()
    overall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kj-bench-") as tmp:
        workdir = Path(tmp)
        env = bench_env(workdir)
        setup_timings, info = prepared_run(env)
        from django.db import connection

        answers = AnswerBook()
        reader, reader_profile = active_learner()
        info["logged-in pages read as"] = f"{reader} ({', '.join(f'{v} {k}' for k, v in reader_profile.items())})"

        log("in-process: SQL queries and time per request (Django test client, same settings and database)")
        breakdown = measure_in_process(answers, learner="learner-0990", member=reader)
        connection.close()

        log("CPU used by other programs before the load starts (3 s)")
        with CpuMeter(None).measure() as background:
            time.sleep(3)
        print(f"   {background['other'] + background['postgres'] + background['redis']:.0f}% of one core")

        crowd_names = [f"learner-{index:04d}" for index in range(101, 101 + DURABILITY_LEARNERS)]
        with gunicorn(env, workdir) as (process, base):
            log(f"logging {3 + len(crowd_names)} learners in through the login form")
            member, resender, labber = login_all(base, [reader, "learner-0002", "learner-0003"], parallel=3)
            crowd = login_all(base, crowd_names)
            meter = CpuMeter(process.pid)
            wrk_results = run_wrk(http_scenarios(base, answers, member, resender, labber), workdir, meter)
            wrk_results["quiz_fresh"] = run_fresh_forms(
                base, crowd, crowd_names, answers, workdir, meter, expected_rps=wrk_results["quiz_resent"].rps
            )

            loops = {}
            for loop in QUIZ_LOOPS:
                log(f"{loop.label} for {loop.seconds} s: open the lesson, answer, then Try again → answer …")
                with meter.measure() as cpu:
                    stats = quiz_learners(
                        crowd[: loop.learners], [LESSON_PATH], answers, loop.seconds, loop.seed,
                        try_again=True, pause=loop.pause,
                    )  # fmt: skip
                stats.cpu = cpu
                loops[loop.name] = stats
                print(
                    f"   {len(stats.post_latencies)} submissions, p50 {stats.percentile_ms(0.5):.1f} ms, "
                    f"p99 {stats.percentile_ms(0.99):.1f} ms"
                )
            durable = durability(crowd, crowd_names, answers, meter)
            rss = worker_rss_mb(process.pid)

    elapsed = time.perf_counter() - overall
    print_report(info, setup_timings, breakdown, wrk_results, loops, durable, rss, background, elapsed)


if __name__ == "__main__":
    main()
