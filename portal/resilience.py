"""Outages of the cache and of the database, as the site should live through them.

The cache (Redis) only ever saves work: every value in it can be read again from the database or
rendered again. So a cache that fails or hangs must not fail a page. ``ResilientRedisCache``
answers a failed read with a miss and skips a failed write; after a failure it does not try the
cache again for ``CACHE_RETRY_SECONDS`` (a hung Redis would otherwise cost the socket timeout on
every call of every request). Each process logs one line when the cache fails and one when it
answers again; every failed or skipped call is counted in /metrics.

The database holds what the site is, so without it there is nothing to serve: ``DatabaseOutageMiddleware``
answers 503 with Retry-After and a page that says so, and the site recovers on its own (Django
replaces the broken connection at the next request).
"""

import logging
import sys
import threading
import time

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from . import metrics

logger = logging.getLogger(__name__)

# What a cache that cannot be reached raises; anything else (a value that cannot be pickled) is a
# bug and is left to surface.
CACHE_ERRORS = (ConnectionInterrupted, RedisError, OSError)


class CacheUnavailableError(Exception):
    """incr and decr have no answer that means "unknown"; they raise this instead."""


# Replaceable in tests.
clock = time.monotonic


class CacheBreaker:
    """Per process: is the cache worth trying now? Logs the start and the end of an outage once."""

    def __init__(self):
        self._lock = threading.Lock()
        self.open_until = 0.0
        self.down_since = None
        self.missed_invalidation = False

    def allows(self):
        return clock() >= self.open_until

    def failed(self, operation, exc):
        metrics.cache_error(operation=operation, outcome="failed")
        with self._lock:
            now = clock()
            self.open_until = now + settings.CACHE_RETRY_SECONDS
            first = self.down_since is None
            if first:
                self.down_since = now
        if first:
            logger.warning(
                "The cache is unavailable (%s: %s). Pages are served from the database and cache writes are "
                "skipped; it is tried again every %s s.",
                type(exc).__name__,
                exc,
                settings.CACHE_RETRY_SECONDS,
            )

    def skipped(self, operation):
        metrics.cache_error(operation=operation, outcome="skipped")

    def succeeded(self):
        if self.down_since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            if self.down_since is None:
                return
            seconds, self.down_since = clock() - self.down_since, None
            replay, self.missed_invalidation = self.missed_invalidation, False
        logger.warning("The cache answers again after %.1f s of outage.", seconds)
        if replay:
            # A learner's progress or the curriculum changed while their version could not be
            # written: pages stored before the outage would be served as current. A new content
            # version retires every stored page at once (they are rendered again on demand).
            from journeys.pages.content_version import content_changed

            content_changed()

    @property
    def available(self):
        return self.down_since is None

    def reset(self):
        with self._lock:
            self.open_until, self.down_since, self.missed_invalidation = 0.0, None, False


breaker = CacheBreaker()


def invalidation_missed():
    """A write that retires stored pages could not be made; make up for it once the cache is back."""
    breaker.missed_invalidation = True


def guarded(operation, fallback):
    """Wrap a cache method: on failure (or while the breaker is open) return ``fallback(args, kwargs)``."""

    def decorate(method):
        def wrapper(self, *args, **kwargs):
            if not breaker.allows():
                breaker.skipped(operation)
                return fallback(args, kwargs)
            try:
                value = method(self, *args, **kwargs)
            except CACHE_ERRORS as exc:
                breaker.failed(operation, exc)
                return fallback(args, kwargs)
            breaker.succeeded()
            return value

        wrapper.__name__ = method.__name__
        wrapper.__doc__ = method.__doc__
        return wrapper

    return decorate


def _default(args, kwargs):
    return kwargs.get("default", args[1] if len(args) > 1 else None)


def _unavailable(args, kwargs):
    raise CacheUnavailableError("the cache is unavailable")


def _constant(value):
    return lambda args, kwargs: value


def _all_keys(args, kwargs):
    data = kwargs.get("data", args[0] if args else {})
    return list(data)


class ResilientRedisCache(RedisCache):
    """django-redis whose failures cost a miss (reads) or nothing (writes), never an exception.

    django-redis's own IGNORE_EXCEPTIONS does the first half, but it tries Redis on every call
    (a hung server costs the socket timeout each time), logs nothing unless told to and then a
    traceback per call, and makes incr return None, which callers cannot tell from a count.
    """

    @guarded("get", _default)
    def get(self, key, default=None, version=None, client=None):
        return self.client.get(key, default=default, version=version, client=client)

    @guarded("get_many", _constant({}))
    def get_many(self, *args, **kwargs):
        return self.client.get_many(*args, **kwargs)

    @guarded("set", _constant(False))
    def set(self, *args, **kwargs):
        return self.client.set(*args, **kwargs)

    @guarded("add", _constant(False))
    def add(self, *args, **kwargs):
        return self.client.add(*args, **kwargs)

    @guarded("set_many", _all_keys)
    def set_many(self, *args, **kwargs):
        return self.client.set_many(*args, **kwargs)

    @guarded("delete", _constant(False))
    def delete(self, *args, **kwargs):
        return bool(self.client.delete(*args, **kwargs))

    @guarded("delete_many", _constant(None))
    def delete_many(self, *args, **kwargs):
        return self.client.delete_many(*args, **kwargs)

    @guarded("has_key", _constant(False))
    def has_key(self, *args, **kwargs):
        return self.client.has_key(*args, **kwargs)

    @guarded("touch", _constant(False))
    def touch(self, *args, **kwargs):
        return self.client.touch(*args, **kwargs)

    @guarded("incr", _unavailable)
    def incr(self, *args, **kwargs):
        return self.client.incr(*args, **kwargs)

    @guarded("decr", _unavailable)
    def decr(self, *args, **kwargs):
        return self.client.decr(*args, **kwargs)

    @guarded("clear", _constant(None))
    def clear(self):
        return self.client.clear()

    @guarded("ttl", _constant(None))
    def ttl(self, *args, **kwargs):
        return self.client.ttl(*args, **kwargs)

    def is_available(self):
        """For /readyz: one round trip, unless the cache failed moments ago."""
        if not breaker.allows():
            return False
        try:
            self.client.get("journeys:readiness-probe")
        except CACHE_ERRORS as exc:
            breaker.failed("readiness", exc)
            return False
        breaker.succeeded()
        return True


def cache_state():
    """ "ok" or "unavailable": the default cache as /readyz reports it."""
    from django.core.cache import cache

    probe = getattr(cache, "is_available", None)
    if probe is None:
        return "ok"  # a cache in files or in memory fails only with the disk, which /readyz does not judge
    return "ok" if probe() else "unavailable"


# --- Database ---

try:
    import psycopg

    DATABASE_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)
except ImportError:  # SQLite-only installs
    DATABASE_ERRORS = (OperationalError, InterfaceError)

# A line per this many seconds at most, per process: during an outage every request fails alike.
DATABASE_LOG_INTERVAL = 30.0
_database_log = {"at": None, "since_logged": 0}


def is_database_outage(exc):
    return isinstance(exc, DATABASE_ERRORS)


def _log_database_outage(exc):
    now = clock()
    _database_log["since_logged"] += 1
    last = _database_log["at"]
    if last is not None and now - last < DATABASE_LOG_INTERVAL:
        return
    logger.error(
        "The database is unavailable (%s: %s); %d request(s) answered 503 since the last such line.",
        type(exc).__name__,
        str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        _database_log["since_logged"],
    )
    _database_log.update(at=now, since_logged=0)


def database_unavailable_response(request):
    """503 with Retry-After: a page for a browser, a short fragment for htmx."""
    session = getattr(request, "session", None)
    if session is not None and not hasattr(session, "_session_cache"):
        # The session could not be read. Nothing on the way out (the access log reads the user id
        # from the session) may try the database again: that would turn the 503 into a 500.
        session._session_cache = {}
    retry_after = settings.DATABASE_RETRY_AFTER
    if getattr(request, "htmx", False):
        body = (
            '<p class="alert alert--error" role="alert">The site cannot reach its database right now. '
            f"Please try again in {retry_after} seconds.</p>"
        )
    else:
        # Rendered without the request: context processors would read the session and the user,
        # which live in the database.
        body = render_to_string("503.html", {"retry_after": retry_after})
    response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # Django would log every 5xx response as an error; during an outage that is one line per
    # request. The outage is logged here at most every DATABASE_LOG_INTERVAL seconds instead (and
    # each request still has its access log line).
    response._has_been_logged = True
    return response


def _mark_database_outage(sender, request=None, **kwargs):
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and is_database_outage(exc):
        request._database_outage = exc


class DatabaseOutageMiddleware:
    """Answer 503 with Retry-After, not Django's 500, when the database cannot be reached.

    A view's failure arrives in process_exception. A failure in a middleware inside this one
    (the session saved on the way out) has already been turned into a 500 by Django; the
    got_request_exception signal marks such a request, and the 500 is replaced here.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_mark_database_outage, dispatch_uid="portal.resilience.database_outage")

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, "_database_outage", None)
        if response.status_code == 500 and exc is not None:
            _log_database_outage(exc)
            return database_unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if not is_database_outage(exception):
            return None
        _log_database_outage(exception)
        return database_unavailable_response(request)


def _database_outage_behind(exc):
    """The outage error an exception was raised while handling, if any."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if is_database_outage(exc):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


class OutageAwareSessionMiddleware(SessionMiddleware):
    """Django's SessionMiddleware, except for a session that could not be saved for a database outage.

    Django reports any failure to update an existing session as "session interrupted" (400, as if
    the learner had signed out in another tab). When the update failed because the database is
    down, that is the same 503 as any other page during the outage.
    """

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted as exc:
            outage = _database_outage_behind(exc)
            if outage is None:
                raise
            _log_database_outage(outage)
            return database_unavailable_response(request)
