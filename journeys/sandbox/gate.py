"""One lab check at a time per worker process.

A worker process runs several request threads, but Python runs one of them at a time, so two lab
checks in one process finish no sooner together than one after the other; they would only hold
twice the memory. The chart's memory limit is sized for one worst-case check per process
(SANDBOX_CHECKS_PER_WORKER, default 1). A check waits its turn for SANDBOX_CHECK_WAIT seconds,
then the learner is asked to try again (503) and nothing is recorded.
"""

import threading
from contextlib import contextmanager

from django.conf import settings

from .sources import SourceError

_slots = threading.BoundedSemaphore(max(1, settings.SANDBOX_CHECKS_PER_WORKER))


@contextmanager
def check_slot():
    if not _slots.acquire(timeout=settings.SANDBOX_CHECK_WAIT):
        raise SourceError(
            "busy",
            "Many lab checks are running right now. Send yours again in a few seconds.",
            detail=f"no check slot free within {settings.SANDBOX_CHECK_WAIT} s",
        )
    try:
        yield
    finally:
        _slots.release()
