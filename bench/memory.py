"""Memory of the programs serving the benchmark: gunicorn's workers, PostgreSQL's backends, Redis.

Read from /proc: VmRSS as the kernel counts it. PostgreSQL's backends each count the pages of shared
buffers they touched, so their RSS added up counts shared memory several times; Pss (the process's
share of each page) adds up to what they really hold together, and is given beside it.
"""

import re
from pathlib import Path


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
