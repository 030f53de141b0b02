"""Where the benchmarks run and what they load: services, paths, sizes, targets, the server's environment.

Every other module of the package reads its settings from here, so a run on another database or
Redis database (BENCH_DB_NAME, BENCH_REDIS_DB: two people benchmarking one machine) changes nothing else.
"""

import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

POSTGRES = "postgres://postgres@127.0.0.1:5432"
# The database is dropped and created again by every run: overridable so that two runs on one machine
# do not drop each other's; checked because the name is written into DROP DATABASE as it is.
DB_NAME = os.environ.get("BENCH_DB_NAME", "kube_journeys_bench")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DB_NAME):
    sys.exit(f"BENCH_DB_NAME must be a plain lower-case PostgreSQL name, not {DB_NAME!r}.")
# Flushed at the start of a run (sessions, rate-limit counters): a database of its own.
REDIS_DB = int(os.environ.get("BENCH_REDIS_DB", "14"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
HOST = "127.0.0.1"

JOURNEY = "intermediate-app-developer"
LESSON = "cronjobs"
LESSON_PATH = f"/journeys/{JOURNEY}/{LESSON}/"
LAB = "nightly-backup"
LAB_PASTE = REPO / "tests" / "sandbox" / "fixtures" / LAB / "pass.yaml"

LEARNERS = 1000
PASSWORD = "kube-journeys-learner"  # noqa: S105 - the seeded accounts' login, local database only
WORKERS = 2
# Threads per worker, as portal/gunicorn_config.py reads them.
THREADS = int(os.environ.get("WEB_THREADS", "4"))
CONNECTIONS, WRK_THREADS = 32, 2
WARMUP_SECONDS, WRK_SECONDS = 3, 15
# A closed loop: a slow answer delays that connection's next request instead of piling up, so 10 s is
# generous; a timeout still counts as a socket error.
WRK_TIMEOUT = "10s"


DURABILITY_LEARNERS, DURABILITY_SECONDS = 64, 60
# Every load loop stops at whichever comes first, its deadline or this many iterations per learner.
MAX_ITERATIONS = 5000
REQUEST_TIMEOUT = 30
RESULT_MARKER = ": your result</h2>"
LAB_MARKER = 'class="lab__result"'

TARGETS = {"anon_lesson": 0.50, "user_lesson": 0.25, "dashboard": 0.20}
QUIZ_P99_TARGET_MS = 100
RSS_TARGET_MB = 150


def log(message):
    print(f"== {message}", flush=True)


# --- Environment ---


def bench_env(workdir):
    """The production settings the portal runs with, pointed at local services (the same for every process).

    Makes the folder in ``workdir`` where every process of the run shares its Prometheus counters."""
    (workdir / "metrics").mkdir(exist_ok=True)
    return {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else-0123456789abcdef",
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_URL": f"{POSTGRES}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        "STATIC_ROOT": str(workdir / "static"),
        "LOG_LEVEL": "WARNING",
        # The lab check is limited per learner per minute; one learner drives it here thousands of times.
        "SANDBOX_RUNS_PER_MINUTE": "1000000",
        "SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS": "1000000",
        # Pasted output only: no cluster is reached.
        "SANDBOX_KUBECONFIG": "",
        "SANDBOX_IN_CLUSTER": "false",
        "SANDBOX_NAMESPACE_TEMPLATE": "",
    }
