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
            logger.warning("rate limit %s: attempt not given back, the cache is unavailable: %r", self.cache_key, exc)


def attempt(key, *, limit, window=60):
    """Count one attempt for ``key`` in the current window of ``window`` seconds."""
    now = clock()
    bucket = int(now // window)
    cache_key = f"ratelimit:{key}:{bucket}"
    try:
        count = _count(cache_key, timeout=window + 5)
    except Exception as exc:  # noqa: BLE001 - each cache backend fails with its own errors
        # One line, no traceback: during an outage every attempt lands here.
        logger.warning("rate limit %s not counted, the cache is unavailable: %r", key, exc)
        return Attempt()
    if count > limit:
        return Attempt(cache_key, max(1, int((bucket + 1) * window - now) + 1))
    return Attempt(cache_key)


def seconds_until_allowed(key, *, limit, window=60):
    """Count one attempt for ``key``; return None when allowed, else the seconds to wait."""
    return attempt(key, limit=limit, window=window).wait


def _count(cache_key, *, timeout):
    if cache.add(cache_key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=timeout)
        return 1
