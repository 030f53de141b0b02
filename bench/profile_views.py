"""Profile the benchmarked requests in-process: each SQL statement with its time, template time, and cProfile.

Needs the database that `make bench` leaves behind (kube_journeys_bench, or BENCH_DB_NAME) and Redis; it
uses the same production settings as the benchmark. Examples, from the repository:

    .venv/bin/python -m bench.profile_views                          # every scenario, top 25 functions
    .venv/bin/python -m bench.profile_views user_lesson dashboard --requests 50 --sort tottime
"""

import argparse
import cProfile
import io
import pstats
import tempfile
from pathlib import Path

from bench import portal_api
from bench.config import bench_env
from bench.database import manage, setup_django
from bench.in_process import in_process_scenarios, measure_request, median_breakdown
from bench.quiz_forms import AnswerBook
from bench.scenarios import LABELS


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenarios", nargs="*", help=f"some of: {', '.join(LABELS)} (default: all)")
    parser.add_argument("--requests", type=int, default=30, help="requests profiled per scenario (default 30)")
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"], help="cProfile order")
    parser.add_argument("--limit", type=int, default=25, help="functions shown per scenario (default 25)")
    parser.add_argument("--sql-width", type=int, default=160, help="characters of each SQL statement shown")
    parser.add_argument(
        "--not-stored",
        action="store_true",
        help="render learners' pages every time, as after a change (no stored page is served)",
    )
    options = parser.parse_args()
    unknown = set(options.scenarios) - set(LABELS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    with tempfile.TemporaryDirectory(prefix="kj-profile-") as tmp:
        workdir = Path(tmp)
        env = bench_env(workdir)
        manage("collectstatic", "--no-input", "-v0", env=env)
        setup_django(env)
        if options.not_stored:
            portal_api.never_serve_stored_learner_pages()
        answers = AnswerBook()
        member, _ = portal_api.active_learner()
        scenarios = in_process_scenarios(answers, learner="learner-0991", member=member)
        for name in options.scenarios or list(scenarios):
            profile(name, scenarios[name], options)


def profile(name, prepare, options):
    print(f"\n=== {LABELS[name]}")
    prepare()()
    breakdown = median_breakdown([measure_request(prepare()) for _ in range(7)])
    print(
        f"median of 7: {breakdown.total_ms:.1f} ms, {breakdown.queries} queries taking {breakdown.sql_ms:.1f} ms, "
        f"template {breakdown.template_ms:.1f} ms ({breakdown.template_queries} queries run while rendering)"
    )
    for seconds, sql in breakdown.statements:
        print(f"  {1000 * seconds:6.2f} ms  {' '.join(sql.split())[: options.sql_width]}")

    profiler = cProfile.Profile()
    for _ in range(options.requests):
        # Prepared one at a time: a fresh quiz form exists only once the previous one was submitted.
        send = prepare()
        profiler.enable()
        send()
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats(options.sort).print_stats(options.limit)
    print(f"cProfile of {options.requests} requests (per-call times are per request × {options.requests}):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:20000])


if __name__ == "__main__":
    main()
