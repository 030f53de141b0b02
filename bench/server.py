"""gunicorn as production runs it, started on a free port of 127.0.0.1 for one run and always stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

from bench.config import HOST, REPO, WORKERS, log


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
