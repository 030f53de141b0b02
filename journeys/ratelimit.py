"""A fixed-window rate limit kept in the cache, so it holds across processes when the cache is shared."""

import time

from django.core.cache import cache

# The clock, kept apart so a test can stand still in the middle of a window.
clock = time.time


def seconds_until_allowed(key, *, limit, window=60):
    """Count one attempt for ``key``; return None when allowed, else the seconds to wait."""
    now = clock()
    bucket = int(now // window)
    cache_key = f"ratelimit:{key}:{bucket}"
    if cache.add(cache_key, 1, timeout=window + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 5)
            count = 1
    if count > limit:
        return max(1, int((bucket + 1) * window - now) + 1)
    return None
