"""Fixed-window rate limits kept in the cache, so they hold across processes when the cache is shared.

A limit protects the site; it must never be what breaks it. When the cache cannot be reached the
attempt is allowed and the outage logged: for a few minutes limits do not hold, but every learner
can still check their work.
"""

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)

# The clock, kept apart so a test can stand still in the middle of a window.
clock = time.time
# During an outage every attempt fails to count; the log says so once a minute, with the number.
OUTAGE_LOG_SECONDS = 60
_outage = {"logged_at": None, "uncounted": 0}


def _log_uncounted(what, exc):
    _outage["uncounted"] += 1
    now = time.monotonic()
    if _outage["logged_at"] is not None and now - _outage["logged_at"] < OUTAGE_LOG_SECONDS:
        return
    logger.warning(
        "rate limits not counted, the cache is unavailable (%s; %d attempts allowed uncounted since the last "
        "line): %r", what, _outage["uncounted"], exc,
    )  # fmt: skip
    _outage["logged_at"], _outage["uncounted"] = now, 0


@dataclass(frozen=True)
class Attempt:
    """One counted attempt. ``wait`` is None when it is allowed, else the seconds until it would be."""

    cache_key: str = ""
    wait: int | None = None

    @property
    def allowed(self):
        return self.wait is None

    def refund(self):
        """Take the attempt back: it turned out to cost nothing the limit is there to protect."""
        if not self.cache_key:
            return
        try:
            cache.decr(self.cache_key)
        except ValueError:  # the window has ended and its count is gone
            pass
        except Exception as exc:  # noqa: BLE001 - each cache backend fails with its own errors
            _log_uncounted(f"{self.cache_key} not given back", exc)


def attempt(key, *, limit, window=60):
    """Count one attempt for ``key`` in the current window of ``window`` seconds."""
    now = clock()
    bucket = int(now // window)
    cache_key = f"ratelimit:{key}:{bucket}"
    try:
        attempts = count(cache_key, timeout=window + 5)
    except Exception as exc:  # noqa: BLE001 - each cache backend fails with its own errors
        _log_uncounted(key, exc)
        return Attempt()
    if attempts > limit:
        return Attempt(cache_key, max(1, int((bucket + 1) * window - now) + 1))
    return Attempt(cache_key)


def seconds_until_allowed(key, *, limit, window=60):
    """Count one attempt for ``key``; return None when allowed, else the seconds to wait."""
    return attempt(key, limit=limit, window=window).wait


def count(cache_key, *, timeout, store=None):
    """Add one to a counter in ``store`` (the default cache) that lives ``timeout`` seconds; return it."""
    store = cache if store is None else store
    if store.add(cache_key, 1, timeout=timeout):
        return 1
    try:
        return store.incr(cache_key)
    except ValueError:  # expired between add and incr
        store.add(cache_key, 1, timeout=timeout)
        return 1
