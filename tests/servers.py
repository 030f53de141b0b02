"""Servers of the tests' own: spare ports and a private Redis that tests may stop, hang and restart.

The machine's shared Redis (6379) is never touched: every test that breaks Redis on purpose runs
one of these, on a port nobody else uses.
"""

import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """redis-server on a spare port, without persistence: a restart comes back empty, as a Redis
    that lost its memory would. ``freeze`` stops the process (SIGSTOP): connections hang."""

    def __init__(self, log_dir=None):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = Path(log_dir) / "redis.log" if log_dir is not None else None
        self.process = None

    def start(self):
        command = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        if self.log_path is None:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self.ping():
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the private redis-server did not start")
            time.sleep(0.05)
        return self

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return b"PONG" in sock.recv(100)
        except OSError:
            return False

    def freeze(self):
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self):
        if self.process is not None:  # cleanup thaws whatever state a test left it in
            self.process.send_signal(signal.SIGCONT)

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            # A frozen process ignores SIGTERM until it runs again.
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def start_gunicorn(tmp_path, env, *, workers=1, log_name="gunicorn.log"):
    """gunicorn with the portal's own settings file on a spare port; returns (process, url).

    ``env`` is the whole environment of the server. The caller stops the process."""
    import sys
    import urllib.request

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--config", "python:portal.gunicorn_config"]
    with open(Path(tmp_path) / log_name, "ab") as log:
        process = subprocess.Popen(command, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2).read()
            return process, url
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError((Path(tmp_path) / log_name).read_text()) from None
            time.sleep(0.1)
