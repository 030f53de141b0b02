"""gunicorn settings shared by the container and `make bench`."""

from prometheus_client import multiprocess

accesslog = None
errorlog = "-"
graceful_timeout = 20
timeout = 30


def child_exit(server, worker):
    # A dead worker's gauges would otherwise linger in the shared metrics directory.
    multiprocess.mark_process_dead(worker.pid)
