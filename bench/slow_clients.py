"""Benchmark: slow clients against one container's gunicorn, with the sync worker and with the portal's.

Starts gunicorn (2 worker processes, as the container) on SQLite twice: once with gunicorn's sync
worker (what the container ran before) and once with the portal's settings (the buffering
threaded worker). Against each, it opens N connections that send their request a byte every half
second (slow headers, and slow bodies of a form), then asks /healthz and a lesson page 20 times with
the 5-second timeout of a liveness probe. It prints how many probes were answered, their latency,
the workers' memory and CPU while held, and (for the portal's worker) how soon every slow
connection was cut off.

Run with `make bench-slow-clients` or `python bench/slow_clients.py`. It never fails because a
figure is poor; the exit code is non-zero only when the benchmark itself could not run.
"""

import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.servers import free_port  # noqa: E402

PROBES = 20
PROBE_TIMEOUT = 5
# With a CSRF cookie (any well-formed one), Django reads a form's body to find its token: a slow
# body then holds whatever is reading it.
CSRF_COOKIE = b"Cookie: csrftoken=" + b"a" * 32 + b"\r\n"
ATTACKS = (0, 2, 16, 256)


def _environment(tmp):
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "slow-client-bench-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
        "CACHE_DIR": f"{tmp}/cache",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": f"{tmp}/static",
        "LOG_LEVEL": "ERROR",
        "LOG_FORMAT": "text",
    }


def _prepare(env):
    for command in (["migrate", "-v0"], ["collectstatic", "--no-input", "-v0"], ["load_journeys"]):
        subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *command], env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL
        )
    lesson = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "shell", "-v0", "-c", "from bench.portal_api import first_lesson_url; print(first_lesson_url())"],
        env=env, cwd=REPO, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return lesson.stdout.strip()


class Server:
    def __init__(self, env, tmp, extra):
        self.port = free_port()
        command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", "2", "--config", "python:portal.gunicorn_config", *extra]
        self.log = open(Path(tmp) / f"gunicorn-{self.port}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            command, env=env, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while _probe(self.url("/healthz"))[0] != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def workers(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def usage(self):
        """(resident MB, CPU seconds) summed over the workers."""
        rss = cpu = 0.0
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            rss += int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return rss, cpu

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def _probe(url):
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:  # noqa: S310 - http://127.0.0.1 only
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = None
    return status, (time.perf_counter() - started) * 1000


class SlowClients:
    """``count`` connections, half trickling a head, half a form body, a byte every half second."""

    def __init__(self, port, count):
        self.socks, self.stop = [], threading.Event()
        for index in range(count):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                continue  # the backlog is full: that too is the attack working
            if index % 2:
                sock.sendall(
                    b"POST /account/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + CSRF_COOKIE
                    + b"Content-Length: 50000\r\n\r\nu"
                )
            else:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.socks.append(sock)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self):
        while not self.stop.wait(0.5):
            for sock in self.socks:
                with suppress(OSError):
                    sock.send(b"X")

    def cut_off(self):
        """How many the server has answered 408 and closed, so far."""
        readable, _, _ = select.select(self.socks, [], [], 0)
        cut = 0
        for sock in readable:
            with suppress(OSError):
                cut += sock.recv(100, socket.MSG_PEEK).startswith(b"HTTP/1.1 408")
        return cut

    def close(self):
        self.stop.set()
        self.thread.join()
        for sock in self.socks:
            sock.close()


def _time_to_cut_off(server, count):
    """Seconds until the server has cut off every one of ``count`` slow clients (None: not in 60 s)."""
    attack = SlowClients(server.port, count)
    started = time.monotonic()
    try:
        while attack.cut_off() < len(attack.socks):
            if time.monotonic() - started > 60:
                return None
            time.sleep(0.25)
        return time.monotonic() - started
    finally:
        attack.close()


def _measure(server, lesson, count):
    attack = SlowClients(server.port, count)
    time.sleep(1)
    before = server.usage()
    health, pages = [], []
    for _ in range(PROBES):
        health.append(_probe(server.url("/healthz")))
        pages.append(_probe(server.url(lesson)))
    rss, cpu = server.usage()
    connected = len(attack.socks)
    attack.close()
    time.sleep(0.5)
    return {"count": connected, "health": health, "pages": pages, "rss": rss, "cpu": cpu - before[1]}


def _line(name, results):
    answered = [ms for status, ms in results if status == 200]
    if not answered:
        return f"{name}: 0/{len(results)} answered"
    answered.sort()
    p99 = answered[min(len(answered) - 1, round(0.99 * len(answered)) - 1)]
    return f"{name}: {len(answered)}/{len(results)} answered, median {statistics.median(answered):.0f} ms, p99 {p99:.0f} ms"


def main():
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        env = _environment(tmp)
        lesson = _prepare(env)
        print(
            f"Slow clients: {PROBES} probes of /healthz and {lesson} each, {PROBE_TIMEOUT} s timeout, 2 worker processes"
        )
        for label, extra in (("sync worker (before)", ["--worker-class", "sync"]), ("portal's worker", [])):
            server = Server(env, tmp, extra)
            try:
                print(f"\n{label}:")
                for count in ATTACKS:
                    result = _measure(server, lesson, count)
                    print(
                        f"  {result['count']:>3} slow clients | {_line('healthz', result['health'])} | "
                        f"{_line('lesson', result['pages'])} | workers {result['rss']:.0f} MB, "
                        f"{result['cpu']:.2f} s CPU while held"
                    )
                if not extra:
                    seconds = _time_to_cut_off(server, ATTACKS[-1])
                    shown = "not within 60 s" if seconds is None else f"after {seconds:.1f} s"
                    print(
                        f"  {ATTACKS[-1]} slow clients all cut off with 408 {shown} (CLIENT_HEADER_TIMEOUT 10 s, body 10 s + 1 s per 16 KiB)"
                    )
            finally:
                server.stop()


if __name__ == "__main__":
    main()
