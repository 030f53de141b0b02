"""Private Redis, PostgreSQL and gunicorn for the fault suite, each started here and stopped here.

The shared services on 5432 and 6379 are never touched: every fault is injected into a server of
our own, on a spare port, so stopping or freezing it harms nobody else's tests.
"""

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

from tests.servers import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"


def wait_until(check, *, seconds, what):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if check():
                return
        except (OSError, psycopg.Error):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {seconds} s")
        time.sleep(0.1)


def postgres_version():
    versions = sorted((p.name for p in Path("/etc/postgresql").iterdir()), key=int)
    return versions[-1]


class PrivatePostgres:
    """A cluster of our own (Debian's cluster tools, run as root), trust auth on 127.0.0.1 only."""

    def __init__(self):
        self.port = free_port()
        self.version = postgres_version()
        self.name = f"faults{self.port}"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/kube_journeys"
        self.created = False

    def _ctl(self, action, *extra):
        done = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action, *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # The tool's own message says why (a bad setting, a port in use): keep it in the failure.
        assert done.returncode == 0, f"pg_ctlcluster {action} failed: {done.stderr or done.stdout}"

    def create(self):
        subprocess.run(
            ["pg_createcluster", self.version, self.name, "-p", str(self.port)],
            check=True,
            capture_output=True,
        )
        self.created = True
        # The default listen_addresses (localhost) already keeps it on the loopback interface.
        hba = Path(f"/etc/postgresql/{self.version}/{self.name}/pg_hba.conf")
        hba.write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self.start()
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE kube_journeys")

    @property
    def admin_dsn(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=2"

    @property
    def dsn(self):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=kube_journeys connect_timeout=2"

    def ready(self):
        with psycopg.connect(self.admin_dsn) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)

    def start(self):
        self._ctl("start")
        wait_until(self.ready, seconds=30, what="postgresql")

    def stop(self):
        # Fast: open connections are cut at once, as when the database host goes away.
        self._ctl("stop", "-m", "fast")

    def drop(self):
        if self.created:
            subprocess.run(
                ["pg_dropcluster", "--stop", self.version, self.name], check=False, capture_output=True, timeout=60
            )
            self.created = False

    def query(self, sql, params=()):
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, params).fetchall()


class Portal:
    """gunicorn with production settings on the private database and Redis."""

    def __init__(self, tmp_path, *, database_url, redis_url, workers=2):
        self.tmp_path = Path(tmp_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = self.tmp_path / "gunicorn.log"
        (self.tmp_path / "metrics").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": "fault-suite-secret-key-" + uuid.uuid4().hex + "x" * 20,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_DIR": str(self.tmp_path / "cache"),
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "STATIC_ROOT": str(self.tmp_path / "static"),
            "PROMETHEUS_MULTIPROC_DIR": str(self.tmp_path / "metrics"),
            "LOG_LEVEL": "WARNING",
        }
        self.process = None

    def manage(self, *args):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}"
        return done

    def prepare(self, usernames):
        self.manage("migrate", "--no-input", "-v0")
        self.manage("load_journeys", "-v0")
        self.manage("collectstatic", "--no-input", "-v0")
        code = (
            "from django.contrib.auth import get_user_model\n"
            f"for name in {list(usernames)!r}:\n"
            f"    get_user_model().objects.create_user(name, name + '@example.com', {PASSWORD!r})\n"
        )
        self.manage("shell", "-c", code)

    def start(self):
        command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(self.workers), "--config", "python:portal.gunicorn_config"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, env=self.env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._healthy, seconds=30, what="gunicorn")
        wait_until(lambda: len(self.worker_pids()) == self.workers, seconds=30, what="gunicorn workers")

    def _healthy(self):
        with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
            return response.status == 200

    def worker_pids(self):
        """The master's children, read from /proc (the workers are the only processes it forks)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces and parentheses: the fields start after the last ")".
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
