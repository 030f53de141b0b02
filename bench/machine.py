"""The machine the benchmark runs on: what it is, that it has what a run needs, and where its CPU goes.

A 2-core machine shared with other programs measures differently from one left alone, so every
measurement is taken with a CpuMeter that says what the server, the databases, the load generator
and everything else used meanwhile.
"""

import hashlib
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from bench.config import HOST, REPO, log


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
    wrk_version = "not installed"  # the capacity benchmark does without it
    if shutil.which("wrk"):
        wrk = subprocess.run([shutil.which("wrk"), "-v"], capture_output=True, text=True, check=False)  # noqa: S603
        wrk_version = (wrk.stdout + wrk.stderr).split("\n")[0].split(" [")[0].strip()
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "Python": platform.python_version(),
        "wrk": wrk_version,
    }


def code_fingerprint():
    """A digest of the application code measured: other people change it while benchmarks run."""
    digest = hashlib.sha256()
    for folder in ("journeys", "portal", "templates", "static"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


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
