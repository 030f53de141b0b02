"""gunicorn settings shared by the container, the tests that run gunicorn and `make bench`."""

from prometheus_client import multiprocess

from portal.env import env_int

# Requests are read in full in each worker's event loop before a thread runs them, so slow
# clients cannot hold the workers of a lone container (portal/gunicorn_worker.py says how).
worker_class = "portal.gunicorn_worker.BufferingThreadWorker"
# Threads overlap waits (the database, Redis, a learner's cluster); Python code still runs one
# thread at a time per process, so WEB_CONCURRENCY processes are what use more cores.
threads = env_int("WEB_THREADS", 4)
keepalive = 5
accesslog = None
errorlog = "-"
graceful_timeout = 20
timeout = 30


def child_exit(server, worker):
    # A dead worker's gauges would otherwise linger in the shared metrics directory.
    multiprocess.mark_process_dead(worker.pid)
