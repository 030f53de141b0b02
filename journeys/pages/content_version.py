"""Caching of curriculum reads that every page repeats (journey outlines, quizzes with their questions).

Cached values are keyed by a content version that changes whenever any curriculum row is saved,
deleted or bulk-updated, so an edit in admin or a `load_journeys` shows at once on every replica
(the version lives in the shared cache when REDIS_URL is set).
"""

import hashlib
import time
from functools import cache as once
from pathlib import Path

from django.apps import apps
from django.core.cache import cache

VERSION_KEY = "journeys:content-version"
TIMEOUT = 3600
# How long a process trusts the version it last read: edits reach every replica within this time.
VERSION_RECHECK_SECONDS = 1.0
_local = {"version": None, "read_at": 0.0}


def content_version():
    now = time.monotonic()
    if _local["version"] is not None and now - _local["read_at"] < VERSION_RECHECK_SECONDS:
        return _local["version"]
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), timeout=None)
        version = cache.get(VERSION_KEY)
    _local.update(version=version, read_at=now)
    return version


def content_changed(**kwargs):
    # False: the shared cache did not take the new version (it is down); it is written again when
    # the cache answers, so no replica keeps serving pages of the old curriculum.
    if cache.set(VERSION_KEY, time.time_ns(), timeout=None) is False:
        from portal.resilience import invalidation_missed

        invalidation_missed()
    forget_local()


def forget_local():
    """Read the version from the shared cache next time (after the cache was cleared, for one)."""
    _local.update(version=None, read_at=0.0)


@once
def schema_fingerprint():
    """Changes when a release changes the curriculum models, so no replica unpickles an old shape.

    Or when it moves a module: a pickled value names its class by module path, which a replica still
    running the release before (or after) may not have.
    """
    fields = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_app_config("journeys").get_models()
        for field in model._meta.get_fields()
    ]
    package = Path(apps.get_app_config("journeys").path)
    modules = [path.relative_to(package).as_posix() for path in package.rglob("*.py")]
    return hashlib.sha256("|".join(sorted(fields) + sorted(modules)).encode()).hexdigest()[:12]


def cache_key(name):
    """The cache key of ``name`` for the current curriculum (and model shapes)."""
    return f"journeys:{name}:{schema_fingerprint()}:{content_version()}"


def cached_get(name):
    return cache.get(cache_key(name))


def cached_set(name, value):
    cache.set(cache_key(name), value, timeout=TIMEOUT)


def cached(name, build):
    """``build()`` once per content version; ``name`` must identify everything the value depends on."""
    value = cached_get(name)
    if value is None:
        value = build()
        cached_set(name, value)
    return value
