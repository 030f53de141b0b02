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


def prepared_run(env, learners=LEARNERS):
    """Rebuild and seed the database, set Django up here, and describe the machine and the code measured.

    Returns (setup timings, machine info). Django stays set up for in-process work.
    """
    from bench.machine import code_fingerprint, machine

    timings = prepare_database(env, learners=learners)
    setup_django(env)
    from django.db import connection

    info = machine()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["PostgreSQL"] = cursor.fetchone()[0]
    info["application code (digest)"] = code_fingerprint()
    return timings, info
