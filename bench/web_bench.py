"""Benchmark: the portal under gunicorn with production settings, on PostgreSQL and Redis, with 1,000 learners.

Run with `make bench`. It rebuilds the database `kube_journeys_bench`, starts gunicorn on a free
port of 127.0.0.1, drives it with wrk and with Python load loops, and prints figures: requests per
second (also as a ratio to /healthz, the ceiling of this machine), latency percentiles, non-2xx
responses, SQL queries per request, where the time of one request goes, worker memory, and whether
every acknowledged quiz submission reached the database. It never fails because a target is missed:
the exit code is non-zero only when the benchmark itself could not run. BENCHMARKS.md explains
each figure.
"""

import hashlib
import http.cookiejar
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

POSTGRES = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "kube_journeys_bench"
REDIS_URL = "redis://127.0.0.1:6379/14"
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


@dataclass(frozen=True)
class QuizLoop:
    """Learners on the CronJobs lesson answering its quiz, then "Try again", for ``seconds``."""

    name: str
    learners: int
    seconds: int
    pause: tuple = (0.0, 0.0)
    seed: int = 11

    @property
    def who(self):
        if self.pause[1]:
            return f"{self.learners} learners pausing {self.pause[0]:g}–{self.pause[1]:g} s"
        return f"{self.learners} learners, no pause"

    @property
    def label(self):
        return f"POST quiz after Try again ({self.who})"


QUIZ_LOOPS = (
    # The target's load: 32 learners clicking as fast as the server answers (a closed loop).
    QuizLoop("fresh", learners=32, seconds=20, seed=11),
    # As many learners as workers: latency with almost no queueing, i.e. close to the service time.
    QuizLoop("calm", learners=WORKERS, seconds=15, seed=13),
    # 32 learners who read for a moment before each click (a class working through the quiz together).
    QuizLoop("paced", learners=32, seconds=30, pause=(1.0, 3.0), seed=17),
)
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
    """The production settings the portal runs with, pointed at local services (the same for every process)."""
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


def require_wrk():
    if shutil.which("wrk"):
        return
    apt_get = shutil.which("apt-get")
    if os.geteuid() == 0 and apt_get:
        log("wrk is missing: installing it with apt-get")
        install = [apt_get, "install", "-y", "-q", "wrk"]
        if subprocess.run(install, capture_output=True, check=False).returncode != 0:  # noqa: S603 - fixed arguments
            # A machine that never ran apt-get update has no package lists yet.
            subprocess.run([apt_get, "update", "-q"], capture_output=True, check=False)  # noqa: S603
            subprocess.run(install, capture_output=True, check=False)  # noqa: S603
    if not shutil.which("wrk"):
        sys.exit("make bench needs wrk (HTTP load generator): install it, e.g. `sudo apt-get install wrk`.")


def require_services():
    for name, port in (("PostgreSQL", 5432), ("Redis", 6379)):
        try:
            socket.create_connection((HOST, port), timeout=2).close()
        except OSError:
            sys.exit(f"make bench needs {name} on {HOST}:{port}; start it first.")


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    wrk = subprocess.run([shutil.which("wrk"), "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    wrk_version = (wrk.stdout + wrk.stderr).split("\n")[0].split(" [")[0].strip()
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "Python": platform.python_version(),
        "wrk": wrk_version,
    }


def manage(*args, env):
    started = time.perf_counter()
    command = [sys.executable, "manage.py", *args]
    subprocess.run(command, cwd=REPO, env={**os.environ, **env}, check=True)  # noqa: S603 - our own manage.py
    return time.perf_counter() - started


def prepare_database(env):
    import psycopg

    log(f"database {DB_NAME}: recreate, migrate, load the curriculum, collect static files, seed {LEARNERS} learners")
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    timings = {
        "migrate": manage("migrate", "--no-input", "-v0", env=env),
        "load_journeys": manage("load_journeys", env=env),
        "collectstatic": manage("collectstatic", "--no-input", "-v0", env=env),
        "seed_learners": manage("seed_learners", "--count", str(LEARNERS), "--reset", "--password", PASSWORD, env=env),
    }
    print("   " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
    return timings


def setup_django(env):
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache

    # Redis database 14 belongs to this benchmark: stale sessions and rate-limit counters of an earlier run go.
    cache.clear()


# --- Quiz answers ---


class AnswerBook:
    """Right (and wrong) answers for every question, read from the database once, to fill quiz forms."""

    def __init__(self):
        from journeys.models import Question
        from journeys.services import question_spec

        self.specs = {q.id: question_spec(q) for q in Question.objects.prefetch_related("choices")}

    def fields(self, question_ids, rng, right_share=0.8):
        fields = []
        for question_id in question_ids:
            spec = self.specs[question_id]
            right = rng.random() < right_share
            correct = [choice.id for choice in spec.choices if choice.is_correct]
            wrong = [choice.id for choice in spec.choices if not choice.is_correct]
            name = f"q{spec.id}"
            if spec.kind in ("single", "true_false"):
                fields.append((name, correct[0] if right or not wrong else rng.choice(wrong)))
            elif spec.kind == "multiple":
                chosen = correct if right or not wrong else [*correct[1:], rng.choice(wrong)]
                fields += [(name, choice_id) for choice_id in chosen]
            elif spec.kind in ("short", "kubectl"):
                fields.append((name, spec.accepted_answers[0] if right else "kubectl get pods"))
            else:
                order = [choice.id for choice in sorted(spec.choices, key=lambda choice: choice.order)]
                if not right:
                    rng.shuffle(order)
                fields += [(f"{name}-{choice_id}", position) for position, choice_id in enumerate(order, start=1)]
        return fields


@dataclass
class QuizForm:
    quiz_id: int
    token: str
    csrf: str
    question_ids: list

    def body(self, answers, rng, right_share=0.8):
        fields = [("csrfmiddlewaretoken", self.csrf), ("token", self.token)]
        fields += answers.fields(self.question_ids, rng, right_share)
        return urllib.parse.urlencode(fields)


def parse_quiz_form(page):
    section = re.search(r'<section id="quiz".*?</section>', page, re.S)
    if section is None:
        raise RuntimeError("the lesson page has no quiz form")
    html = section.group(0)
    question_ids = []
    for match in re.finditer(r'name="q(\d+)(?:-\d+)?"', html):
        question_id = int(match.group(1))
        if question_id not in question_ids:
            question_ids.append(question_id)
    return QuizForm(
        quiz_id=int(re.search(r'action="/quizzes/(\d+)/submit/"', html).group(1)),
        token=re.search(r'name="token" value="([^"]+)"', html).group(1),
        csrf=re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
        question_ids=question_ids,
    )


def multipart(fields, boundary="----kube-journeys-bench-boundary"):
    lines = []
    for name, value in fields:
        lines += [f"--{boundary}", f'Content-Disposition: form-data; name="{name}"', "", value]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode(), f"multipart/form-data; boundary={boundary}"


# --- HTTP client ---


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One learner's browser: a cookie jar, no redirects followed, every request to the bench server only."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def request(self, path, data=None, headers=None):
        # Always http://127.0.0.1:<port> of the gunicorn this benchmark started.
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})  # noqa: S310
        started = time.perf_counter()
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")
        return status, body, time.perf_counter() - started

    def cookie(self, name):
        return next((cookie.value for cookie in self.jar if cookie.name == name), "")

    def cookie_header(self):
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def login(self, username, password):
        status, page, _ = self.request("/account/login/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": csrf})
        status, _, _ = self.request("/account/login/", data=body.encode())
        if status != 302 or not self.cookie("sessionid"):
            raise RuntimeError(f"logging in as {username} answered {status}")

    def submit_quiz(self, form, answers, rng):
        return self.request(
            f"/quizzes/{form.quiz_id}/submit/",
            data=form.body(answers, rng).encode(),
            headers={"HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded"},
        )


def login_all(base, usernames, parallel=4):
    """Log every learner in through the login form (PBKDF2 on the server: a quarter second each)."""
    browsers = {username: Browser(base) for username in usernames}
    errors = []

    def work(names):
        for name in names:
            try:
                browsers[name].login(name, PASSWORD)
            except Exception as exc:  # noqa: BLE001 - reported below, the run stops
                errors.append(f"{name}: {exc}")

    threads = [threading.Thread(target=work, args=(usernames[index::parallel],)) for index in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError("login failed: " + "; ".join(errors[:3]))
    return [browsers[name] for name in usernames]


# --- gunicorn ---


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(env, workdir):
    (workdir / "metrics").mkdir(exist_ok=True)
    port = free_port()
    errlog = (workdir / "gunicorn.log").open("w")
    command = [
        sys.executable, "-m", "gunicorn", "portal.wsgi:application",
        "--bind", f"{HOST}:{port}", "--workers", str(WORKERS), "--config", "python:portal.gunicorn_config",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=errlog, stderr=errlog)  # noqa: S603
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()  # noqa: S310 - local bench server
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "gunicorn did not start:\n" + (workdir / "gunicorn.log").read_text()[-3000:]
                    ) from None
                time.sleep(0.2)
        log(f"gunicorn pid {process.pid}, {WORKERS} workers, on {base}")
        yield process, base
    except BaseException:
        # The traceback says what the benchmark saw; the server's log often says why.
        errlog.flush()
        print("gunicorn log (last lines):\n" + (workdir / "gunicorn.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errlog.close()
        log(f"gunicorn stopped (exit {process.returncode})")


def worker_rss_mb(master_pid):
    """VmRSS of each gunicorn worker, the master's child processes."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    if children.exists():
        pids = [int(pid) for pid in children.read_text().split()]
    else:
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                    pids.append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                continue
    rss = {}
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss[pid] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    return rss


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _processes():
    """{pid: (command name, parent pid, CPU seconds)} of every process now running."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            data = stat.read_text()
        except OSError:
            continue
        name, rest = data[data.index("(") + 1 : data.rindex(")")], data[data.rindex(")") + 2 :].split()
        found[int(stat.parent.name)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / CLOCK_TICKS)
    return found


def _machine_cpu():
    """(busy, steal) CPU seconds of the whole machine since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq) / CLOCK_TICKS, steal / CLOCK_TICKS


class CpuMeter:
    """Where the machine's CPU went during one measurement, in percent of one core.

    gunicorn = the master and its workers; load = this process and the programs it ran (wrk);
    other = everything else, e.g. another program on the machine competing with the benchmark.
    """

    def __init__(self, master_pid):
        self.master_pid = master_pid

    def _snapshot(self):
        processes = _processes()
        groups, others = Counter(), {}
        for pid, (name, parent, seconds) in processes.items():
            if pid == self.master_pid or parent == self.master_pid:
                groups["gunicorn"] += seconds
            elif name.startswith("postgres"):
                groups["postgres"] += seconds
            elif name.startswith("redis-server"):
                groups["redis"] += seconds
            elif pid != os.getpid():
                others[pid] = (name, seconds)
        own = os.times()
        groups["load"] = own.user + own.system + own.children_user + own.children_system
        return time.monotonic(), groups, others, _machine_cpu()

    @contextmanager
    def measure(self):
        usage = {}
        started, before, others0, (busy0, steal0) = self._snapshot()
        yield usage
        ended, after, others1, (busy1, steal1) = self._snapshot()
        wall = ended - started
        # Named, so that a busy machine says what it was busy with.
        by_name = Counter()
        for pid, (name, seconds) in others1.items():
            by_name[name] += 100 * max(0.0, seconds - others0.get(pid, (name, 0.0))[1]) / wall
        usage["busiest"] = [(name, share) for name, share in by_name.most_common(2) if share >= 5]
        groups = ("gunicorn", "postgres", "redis", "load")
        for group in groups:
            usage[group] = 100 * max(0.0, after[group] - before[group]) / wall
        # Processes that started and ended within the window count only here, as do the kernel's threads.
        usage["other"] = max(0.0, 100 * (busy1 - busy0) / wall - sum(usage[group] for group in groups))
        usage["steal"] = 100 * (steal1 - steal0) / wall
        usage["gunicorn_seconds"] = max(0.0, after["gunicorn"] - before["gunicorn"])


# --- wrk ---

WRK_REPORT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "mean_us": %.0f, "p50_us": %.0f, "p90_us": %.0f, ' ..
    '"p99_us": %.0f, "max_us": %.0f, "connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"""


# Each request is a form never submitted before, read from a file of "cookie TAB body" lines that
# the threads share out (line i goes to thread i mod threads); no form is ever sent twice.
FRESH_FORMS_LUA = r"""
local threads, thread_count = {}, 0
setup = function(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  threads[#threads + 1] = thread
end

local prepared, sent = {}, 0
init = function(args)
  local line_number, thread_total = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if line_number % thread_total == thread_index then
      local cookie, body = line:match("^([^\t]*)\t(.*)$")
      -- Headers given to wrk.format replace wrk.headers (Host, Content-Type…) rather than add to them.
      local headers = {}
      for name, value in pairs(wrk.headers) do
        headers[name] = value
      end
      headers["Cookie"] = cookie
      prepared[#prepared + 1] = wrk.format(nil, nil, headers, body)
    end
    line_number = line_number + 1
  end
  exhausted = 0
end

request = function()
  if sent >= #prepared then
    exhausted = 1
    wrk.thread:stop()
    return prepared[#prepared]
  end
  sent = sent + 1
  return prepared[sent]
end

local report = done
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    if thread:get("exhausted") == 1 then
      io.write("BENCH-EXHAUSTED\n")
    end
  end
  report(summary, latency, requests)
end
"""


def lua_string(data):
    """A Lua string literal: long brackets would turn the CRLF of a multipart body into LF."""
    if isinstance(data, str):
        data = data.encode()
    out = []
    for byte in data:
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


@dataclass
class WrkResult:
    requests: int
    seconds: float
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_errors: int
    socket_errors: int
    cpu: dict = field(default_factory=dict)
    rows_created: int | None = None  # attempts recorded during the run, where it records them

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self):
        return self.status_errors + self.socket_errors


def wrk(
    url, workdir, *, name, cookie="", method="GET", body=b"", content_type="", seconds=WRK_SECONDS, lua="", args=()
):
    """One wrk run; ``lua``: more script (e.g. its own request function), ``args``: the script's arguments."""
    script = workdir / f"{name}.lua"
    lines = [f"wrk.method = {lua_string(method)}"]
    if content_type:
        lines.append(f'wrk.headers["Content-Type"] = {lua_string(content_type)}')
        lines.append('wrk.headers["HX-Request"] = "true"')
    if body:
        lines.append(f"wrk.body = {lua_string(body)}")
    script.write_text("\n".join(lines) + "\n" + WRK_REPORT + lua)
    command = [
        shutil.which("wrk"),
        f"-t{WRK_THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        WRK_TIMEOUT,
        "-s",
        str(script),
    ]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command += [url, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)  # noqa: S603
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    if "BENCH-EXHAUSTED" in done.stdout:
        raise RuntimeError(f"wrk {name}: every prepared request was sent before the end; prepare more")
    data = json.loads(line.removeprefix("BENCH-JSON "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        mean_ms=data["mean_us"] / 1000,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        status_errors=data["status"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
    )


# --- In-process measurement: queries and where the time goes ---


@dataclass
class Breakdown:
    status: int
    queries: int
    total_ms: float
    sql_ms: float
    template_ms: float
    template_queries: int
    statements: list = field(default_factory=list)


class TemplateTimer:
    """Time spent rendering the page template (outermost render only) and the queries run meanwhile."""

    def __init__(self):
        self.seconds, self.queries, self.depth = 0.0, 0, 0

    @contextmanager
    def installed(self, connection):
        from django.template.backends.django import Template

        original = Template.render
        timer = self

        def timed(template, *args, **kwargs):
            timer.depth += 1
            started, queries = time.perf_counter(), len(connection.queries)
            try:
                return original(template, *args, **kwargs)
            finally:
                timer.depth -= 1
                if timer.depth == 0:
                    timer.seconds += time.perf_counter() - started
                    timer.queries += len(connection.queries) - queries

        Template.render = timed
        try:
            yield self
        finally:
            Template.render = original


TRANSACTION_STATEMENTS = {"BEGIN", "COMMIT", "ROLLBACK"}


def measure_request(send):
    """Run ``send()`` (one test-client request) and return its Breakdown.

    Django logs query times rounded to the millisecond, so statements are timed again here; BEGIN and
    COMMIT bypass execute wrappers and keep Django's rounded figure.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(time.perf_counter() - started)

    timer = TemplateTimer()
    with (
        CaptureQueriesContext(connection) as captured,
        connection.execute_wrapper(timed),
        timer.installed(connection),
    ):
        started = time.perf_counter()
        response = send()
        total = time.perf_counter() - started
    precise = iter(timings)
    statements = []
    for query in captured.captured_queries:
        rounded = query["sql"].strip().upper() in TRANSACTION_STATEMENTS
        statements.append((float(query["time"]) if rounded else next(precise, 0.0), query["sql"]))
    return Breakdown(
        status=response.status_code,
        queries=len(statements),
        total_ms=1000 * total,
        sql_ms=1000 * sum(seconds for seconds, _ in statements),
        template_ms=1000 * timer.seconds,
        template_queries=timer.queries,
        statements=statements,
    )


def median_breakdown(samples):
    middle = sorted(samples, key=lambda sample: sample.total_ms)[len(samples) // 2]
    return Breakdown(
        status=middle.status,
        queries=middle.queries,
        total_ms=statistics.median(sample.total_ms for sample in samples),
        sql_ms=statistics.median(sample.sql_ms for sample in samples),
        template_ms=statistics.median(sample.template_ms for sample in samples),
        template_queries=middle.template_queries,
        statements=middle.statements,
    )


def active_learner():
    """The seeded learner with the most quiz attempts (learner-0004 to -0099): the dashboard's heavy case.

    Returns (username, {what: count}).
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    names = [f"learner-{index:04d}" for index in range(4, 100)]
    row = (
        get_user_model()
        .objects.filter(username__in=names)
        .annotate(attempts=Count("quizattempt", distinct=True))
        .order_by("-attempts", "username")
        .values("username", "attempts")
        .first()
    )
    user = get_user_model().objects.get(username=row["username"])
    profile = {
        "quiz attempts": row["attempts"],
        "lessons completed": user.lessonprogress_set.filter(completed_at__isnull=False).count(),
        "lab runs": user.labrun_set.count(),
    }
    return row["username"], profile


def in_process_scenarios(answers, *, learner, member):
    """{scenario: prepare}: ``prepare()`` sets up state (a login, an open quiz form) outside the measurement
    and returns the callable that makes the one request to measure. ``member`` reads the logged-in pages,
    ``learner`` submits quizzes and lab checks."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = {user.username: user for user in get_user_model().objects.filter(username__in=[learner, member])}
    rng = random.Random(7)  # noqa: S311 - answers to sample quizzes
    lab_body, lab_type = multipart([("mode", "file"), ("paste", LAB_PASTE.read_text())])
    form_type = "application/x-www-form-urlencoded"

    def client(username=learner):
        browser = Client(HTTP_HOST=HOST)
        if username:
            browser.force_login(users[username])
        browser.get(LESSON_PATH)  # opens the quiz form, as a reader does before anything else
        return browser

    reader, returning, resender, fresh, labber = client(member), client(None), client(), client(), client()
    # An anonymous reader gets a session with their first write; a quiz answered is the usual one.
    first = parse_quiz_form(returning.get(LESSON_PATH).content.decode())
    returning.post(f"/quizzes/{first.quiz_id}/submit/", first.body(answers, rng), form_type, HTTP_HX_REQUEST="true")
    resent_form = parse_quiz_form(resender.get(LESSON_PATH).content.decode())
    resent_body = resent_form.body(answers, rng)
    resent_url = f"/quizzes/{resent_form.quiz_id}/submit/"
    resender.post(resent_url, resent_body, form_type, HTTP_HX_REQUEST="true")

    # One client, its cookies dropped before each request: a new Client would load the middleware again,
    # and WhiteNoise scans every static file when it starts.
    visitor = Client(HTTP_HOST=HOST)

    def new_visitor():
        visitor.cookies.clear()
        return lambda: visitor.get(LESSON_PATH)

    def fresh_submit():
        form = parse_quiz_form(fresh.get(LESSON_PATH).content.decode())
        body = form.body(answers, rng)
        return lambda: fresh.post(f"/quizzes/{form.quiz_id}/submit/", body, form_type, HTTP_HX_REQUEST="true")

    return {
        "healthz": lambda: lambda: visitor.get("/healthz"),
        "anon_lesson": new_visitor,
        "anon_returning": lambda: lambda: returning.get(LESSON_PATH),
        "user_lesson": lambda: lambda: reader.get(LESSON_PATH),
        "dashboard": lambda: lambda: reader.get("/dashboard/"),
        "quiz_resent": lambda: lambda: resender.post(resent_url, resent_body, form_type, HTTP_HX_REQUEST="true"),
        "quiz_fresh": fresh_submit,
        "quiz_panel": lambda: lambda: fresh.get(f"/quizzes/{resent_form.quiz_id}/", HTTP_HX_REQUEST="true"),
        "lab_check": lambda: lambda: labber.post(f"/labs/{LAB}/check/", lab_body, lab_type, HTTP_HX_REQUEST="true"),
    }


def measure_in_process(answers, *, learner, member, rounds=7):
    results = {}
    for name, prepare in in_process_scenarios(answers, learner=learner, member=member).items():
        prepare()()  # warm-up: template loading, URL resolver, first connection
        results[name] = median_breakdown([measure_request(prepare()) for _ in range(rounds)])
    return results


# --- Python load loops: fresh quiz submissions ---

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

    from journeys.models import Lesson, QuizAttempt

    lessons = [
        f"/journeys/{JOURNEY}/{slug}/"
        for slug in Lesson.objects.published()
        .filter(journey__slug=JOURNEY, quiz__isnull=False)
        .values_list("slug", flat=True)
    ]
    log(f"durability: {len(crowd)} learners submitting quizzes on {len(lessons)} lessons for {DURABILITY_SECONDS} s")
    user_ids = list(get_user_model().objects.filter(username__in=usernames).values_list("id", flat=True))
    before = QuizAttempt.objects.filter(user_id__in=user_ids).count()
    connection.close()  # not held open, idle, through the window
    with meter.measure() as cpu:
        stats = quiz_learners(crowd, lessons, answers, DURABILITY_SECONDS, seed=23)
    stats.cpu = cpu
    rows = QuizAttempt.objects.filter(user_id__in=user_ids).count() - before
    ids = [attempt_id for attempt_id in stats.acknowledged if attempt_id is not None]
    found = sum(
        QuizAttempt.objects.filter(pk__in=ids[start : start + 1000], user_id__in=user_ids).count()
        for start in range(0, len(ids), 1000)
    )
    print(f"   {len(stats.acknowledged)} acknowledged, {rows} rows created, {found} acknowledged attempts found")
    return Durability(stats=stats, lessons=len(lessons), rows_created=rows, acknowledged_found=found)


# --- The run ---


def form_headers(content_type):
    return {"HX-Request": "true", "Content-Type": content_type}


def http_scenarios(base, answers, member, resender, labber):
    """The wrk runs: {scenario: wrk options}. Each POST is made once first, and must answer 200."""
    rng = random.Random(3)  # noqa: S311 - sample answers
    url = base + LESSON_PATH
    form_type = "application/x-www-form-urlencoded"

    form = parse_quiz_form(resender.request(LESSON_PATH)[1])
    quiz_body = form.body(answers, rng).encode()
    quiz_url = f"/quizzes/{form.quiz_id}/submit/"
    status, body, _ = resender.request(quiz_url, data=quiz_body, headers=form_headers(form_type))
    if status != 200 or RESULT_MARKER not in body:
        raise RuntimeError(f"the first quiz submission answered {status}")

    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', labber.request(LESSON_PATH)[1]).group(1)
    lab_body, lab_type = multipart([("csrfmiddlewaretoken", csrf), ("mode", "file"), ("paste", LAB_PASTE.read_text())])
    lab_url = f"/labs/{LAB}/check/"
    status, body, _ = labber.request(lab_url, data=lab_body, headers=form_headers(lab_type))
    if status != 200 or LAB_MARKER not in body:
        raise RuntimeError(f"the first lab check answered {status}")

    # An anonymous reader gets a session with their first write; a quiz answered is the usual one.
    returning = Browser(base)
    first = parse_quiz_form(returning.request(LESSON_PATH)[1])
    returning.submit_quiz(first, answers, rng)
    if not returning.cookie("sessionid"):
        raise RuntimeError("an anonymous quiz submission started no session")

    for browser in (member, returning):
        if browser.request(LESSON_PATH)[0] != 200:
            raise RuntimeError("the lesson page did not answer 200")
    if member.request("/dashboard/")[0] != 200:
        raise RuntimeError("the dashboard did not answer 200")

    def post(path, browser, body, content_type):
        return {
            "url": base + path,
            "cookie": browser.cookie_header(),
            "method": "POST",
            "body": body,
            "content_type": content_type,
        }

    return {
        "healthz": {"url": base + "/healthz"},
        "anon_lesson": {"url": url},
        "anon_returning": {"url": url, "cookie": returning.cookie_header()},
        "user_lesson": {"url": url, "cookie": member.cookie_header()},
        "dashboard": {"url": base + "/dashboard/", "cookie": member.cookie_header()},
        "quiz_resent": post(quiz_url, resender, quiz_body, form_type),
        "lab_check": post(lab_url, labber, lab_body, lab_type),
    }


def fresh_form_lines(browsers, answers, count, seed):
    """``count`` "cookie TAB body" lines, each a quiz form never submitted, for the browsers in turn.

    Each learner's page gives their CSRF token and the quiz's questions; the forms themselves are
    made by the portal's own code (same secret key as the server), as its pages would hand them out.
    """
    from journeys.models import Quiz
    from journeys.services import quiz_form_read

    rng = random.Random(seed)  # noqa: S311 - sample answers
    pages = []
    for browser in browsers:
        status, page, _ = browser.request(LESSON_PATH)
        if status != 200:
            raise RuntimeError(f"the lesson page answered {status}")
        pages.append((browser.cookie_header(), parse_quiz_form(page)))
    lines = []
    for number in range(count):
        cookie, form = pages[number % len(pages)]
        # The page's own form renewed: the same learner and questions, an attempt never recorded.
        fresh = replace(form, token=quiz_form_read(form.token, quiz=Quiz(pk=form.quiz_id)).renewed().token)
        lines.append(f"{cookie}\t{fresh.body(answers, rng)}\n")
    return "".join(lines), form.quiz_id


def run_fresh_forms(base, browsers, usernames, answers, workdir, meter, expected_rps):
    """wrk posting quiz forms that were never submitted: every request grades and records an attempt."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from journeys.models import QuizAttempt

    # Enough forms for twice the rate expected; running out stops the benchmark rather than re-send one.
    count = int(2 * expected_rps * (WRK_SECONDS + 5)) + 500
    warmup, quiz_id = fresh_form_lines(browsers, answers, count // 3, seed=5)
    measured, _ = fresh_form_lines(browsers, answers, count, seed=7)
    (workdir / "fresh-warmup.tsv").write_text(warmup)
    (workdir / "fresh.tsv").write_text(measured)
    user_ids = list(get_user_model().objects.filter(username__in=usernames).values_list("id", flat=True))
    options = {"method": "POST", "content_type": "application/x-www-form-urlencoded", "lua": FRESH_FORMS_LUA}
    url = f"{base}/quizzes/{quiz_id}/submit/"

    log(f"wrk {LABELS['quiz_fresh']}: {WARMUP_SECONDS} s warm-up, then {WRK_SECONDS} s ({len(browsers)} learners)")
    wrk(
        url,
        workdir,
        name="fresh-warmup",
        seconds=WARMUP_SECONDS,
        args=(str(workdir / "fresh-warmup.tsv"), str(WRK_THREADS)),
        **options,
    )
    before = QuizAttempt.objects.filter(user_id__in=user_ids).count()
    connection.close()
    with meter.measure() as cpu:
        result = wrk(url, workdir, name="fresh", args=(str(workdir / "fresh.tsv"), str(WRK_THREADS)), **options)
    result.cpu = cpu
    result.rows_created = QuizAttempt.objects.filter(user_id__in=user_ids).count() - before
    connection.close()
    print(
        f"   {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"non-2xx {result.non_2xx}, attempts recorded {result.rows_created}"
    )
    return result


def run_wrk(runs, workdir, meter):
    results = {}
    for name, options in runs.items():
        log(f"wrk {LABELS[name]}: {WARMUP_SECONDS} s warm-up, then {WRK_SECONDS} s")
        target = options.pop("url")
        wrk(target, workdir, name=f"{name}-warmup", seconds=WARMUP_SECONDS, **options)
        with meter.measure() as cpu:
            result = results[name] = wrk(target, workdir, name=name, **options)
        result.cpu = cpu
        print(
            f"   {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}"
        )
    return results


def code_fingerprint():
    """A digest of the application code measured: other people change it while benchmarks run."""
    digest = hashlib.sha256()
    for folder in ("journeys", "portal", "templates", "static"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def main():
    require_services()
    require_wrk()
    overall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kj-bench-") as tmp:
        workdir = Path(tmp)
        env = bench_env(workdir)
        (workdir / "metrics").mkdir()
        setup_timings = prepare_database(env)
        setup_django(env)

        from django.db import connection

        info = machine()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["PostgreSQL"] = cursor.fetchone()[0]
        info["application code (digest)"] = code_fingerprint()
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


# --- Report ---


def fmt(value, digits=1):
    return "—" if value is None else f"{value:.{digits}f}"


def table(headers, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{width}}}" for width in widths)
    print(line.format(*headers))
    print(line.format(*("-" * width for width in widths)))
    for row in rows:
        print(line.format(*row))


LABELS = {
    "healthz": "GET /healthz (ceiling)",
    "anon_lesson": "GET lesson, anonymous (new visitor)",
    "anon_returning": "GET lesson, anonymous (returning)",
    "user_lesson": "GET lesson, logged in",
    "dashboard": "GET dashboard, logged in",
    "quiz_resent": "POST quiz, re-sent token",
    "quiz_fresh": "POST quiz, fresh form",
    "quiz_panel": "GET quiz panel (Try again)",
    "lab_check": "POST lab check (pasted YAML)",
}


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


if __name__ == "__main__":
    main()
