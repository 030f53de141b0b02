"""The database and Django in this process: rebuilt and seeded before a run, then set up for in-process work."""

import os
import subprocess
import sys
import time

from bench.config import DB_NAME, LEARNERS, PASSWORD, POSTGRES, REPO, log


def manage(*args, env):
    started = time.perf_counter()
    command = [sys.executable, "manage.py", *args]
    subprocess.run(command, cwd=REPO, env={**os.environ, **env}, check=True)  # noqa: S603 - our own manage.py
    return time.perf_counter() - started


def prepare_database(env, learners=LEARNERS):
    import psycopg

    log(f"database {DB_NAME}: recreate, migrate, load the curriculum, collect static files, seed {learners} learners")
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    timings = {
        "migrate": manage("migrate", "--no-input", "-v0", env=env),
        "load_journeys": manage("load_journeys", env=env),
        "collectstatic": manage("collectstatic", "--no-input", "-v0", env=env),
        "seed_learners": manage("seed_learners", "--count", str(learners), "--reset", "--password", PASSWORD, env=env),
    }
    print("   " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
    return timings


def setup_django(env):
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache

    # The Redis database (BENCH_REDIS_DB) belongs to this benchmark: stale sessions and rate-limit counters
    # of an earlier run go.
    cache.clear()
