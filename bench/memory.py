"""Memory of the programs serving the benchmark: gunicorn's workers, PostgreSQL's backends, Redis.

Read from /proc: VmRSS as the kernel counts it. PostgreSQL's backends each count the pages of shared
buffers they touched, so their RSS added up counts shared memory several times; Pss (the process's
share of each page) adds up to what they really hold together, and is given beside it. Redis is
the machine's shared instance: its RSS is that of every database in it, the benchmark's among them.
"""

import re
import threading
from contextlib import contextmanager
from pathlib import Path

from bench.config import POSTGRES, REDIS_URL


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


def _proc_kib(pid, field, path="status"):
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/{path}").read_text(), re.M)
    except OSError:
        return 0
    return int(match.group(1)) if match else 0


def postgres_backends(database):
    """{pid: (RSS MB, Pss MB)} of the PostgreSQL backends connected to ``database`` (other than this query's)."""
    import psycopg

    with psycopg.connect(f"{POSTGRES}/{database}", autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        )]  # fmt: skip
    return {pid: (_proc_kib(pid, "VmRSS") / 1024, _proc_kib(pid, "Pss", "smaps_rollup") / 1024) for pid in pids}


def postgres_server_mb():
    """(RSS, Pss) in MB of every postgres process on the machine: the server as a whole, other databases too."""
    rss = pss = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name = stat.read_text().split("(", 1)[1].split(")", 1)[0]
        except (OSError, IndexError):
            continue
        if name.startswith("postgres"):
            rss += _proc_kib(stat.parent.name, "VmRSS")
            pss += _proc_kib(stat.parent.name, "Pss", "smaps_rollup")
    return rss / 1024, pss / 1024


def redis_memory():
    """Redis's own figures: the server's RSS and data size (the whole instance), keys in the bench's database."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        info = client.info("memory")
        return {"rss_mb": info["used_memory_rss"] / 2**20, "used_mb": info["used_memory"] / 2**20,
                "keys": client.dbsize()}  # fmt: skip
    finally:
        client.close()


class MemoryProbe:
    """Samples every ``every`` seconds, in a thread of its own, while a window lasts; keeps each figure's peak."""

    def __init__(self, master_pid, database, every=5.0):
        self.master_pid, self.database, self.every = master_pid, database, every

    def sample(self):
        backends = postgres_backends(self.database)
        server_rss, server_pss = postgres_server_mb()
        workers = worker_rss_mb(self.master_pid)
        return {
            "workers_mb": sum(workers.values()),
            "largest_worker_mb": max(workers.values(), default=0.0),
            "workers": len(workers),
            "pg_backends": len(backends),
            "pg_backends_rss_mb": sum(rss for rss, _ in backends.values()),
            "pg_backends_pss_mb": sum(pss for _, pss in backends.values()),
            "largest_pg_backend_mb": max((rss for rss, _ in backends.values()), default=0.0),
            "pg_server_rss_mb": server_rss,
            "pg_server_pss_mb": server_pss,
            **{f"redis_{key}": value for key, value in redis_memory().items()},
        }

    @contextmanager
    def sampling(self):
        peak, stop = {}, threading.Event()

        def take():
            for key, value in self.sample().items():
                peak[key] = max(peak.get(key, value), value)

        def loop():
            while not stop.wait(self.every):
                take()

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        try:
            yield peak
        finally:
            stop.set()
            thread.join()
            take()  # at least one sample, at the end of the window
