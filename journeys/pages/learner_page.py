"""Whole pages of one learner's browser session, kept until something they depend on changes.

A signed-in learner reading lessons asks for pages that change only when their own progress does,
or the curriculum. Each page is stored per session and path together with:

- the learner's *state version*, a value in the shared cache that every write to their progress,
  attempts, lab runs, certificates, sandbox assignment or account replaces (at once and again
  after the commit);
- the content version (part of the cache key), so a curriculum edit retires every stored page;
- how long the page may be shown: a lesson until its view is due to be recorded again, the
  dashboard for a minute (it says "5 minutes ago").

A hit costs the session read and one cache round trip for the page and the version, and no query:
the learner is known from the session. That is safe because the page was rendered for this very
session, and a password change, deactivation or deletion saves the user, which replaces the
version, so the next request goes through authentication again. The CSRF token is swapped for the
request's own; the quiz token in the page is the session's open form, which only a submission
(a write) replaces, or a curriculum edit that changes its questions (which retires the page anyway).
"""

import hashlib
import logging
import time
import zlib
from dataclasses import dataclass
from functools import cache as once

from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render

from portal.resilience import invalidation_missed

from ..learners import SESSION_KEY as ANON_SESSION_KEY
from ..learners import key_for
from .content_version import cache_key

logger = logging.getLogger(__name__)

CSRF_MARK = "__kube_journeys_learner_csrf__"
# Entries expire on their own after this long, so pages of sessions that went away do not pile up.
TIMEOUT = 600
# Replaceable in tests: how old a stored page is, in seconds.
clock = time.time
# Messages are shown once, so a page that would show one is never served from (or kept in) here.
MESSAGES_SESSION_KEY = "_messages"


@dataclass
class StoredPage:
    identity: str
    learner_version: int
    fresh_until: float
    content_type: str
    compressed_html: bytes


def _session_identity(session):
    return key_for(user_id=session.get(AUTH_SESSION_KEY), anon_key=session.get(ANON_SESSION_KEY, ""))


def _version_key(identity):
    return f"journeys:learner-version:{identity}"


@once
def _secret_digest():
    # A rotated SECRET_KEY invalidates sessions' login hashes; it retires the stored pages with them.
    return hashlib.sha256(settings.SECRET_KEY.encode()).hexdigest()[:8]


def _page_key(request):
    path_digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:24]
    return cache_key(f"learner-page:{_secret_digest()}:{request.session.session_key}:{path_digest}")


def _new_version():
    return time.time_ns()


def learner_changed(identity):
    """Retire the stored pages of the learner ``identity`` (``Learner.key``): now, and again once the
    current transaction commits.

    Now, so nothing stored before the write is served after it (also within a transaction that
    never commits, as in tests); after the commit as well, because a page rendered from the old
    rows while the transaction was open may have been stored under the first new version.
    """
    if identity is None:
        return
    _write_version(identity)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _write_version(identity))


def _write_version(identity):
    # The write to the learner's records has been made; a cache that cannot take the new version
    # must not turn it into an error. Their stored pages are retired once the cache is back.
    try:
        written = cache.set(_version_key(identity), _new_version(), timeout=None)
    except Exception as exc:  # noqa: BLE001 - a cache in files fails with OSError, others with their own
        logger.warning("learner %s: stored pages not retired, the cache is unavailable: %r", identity, exc)
        written = False
    if written is False:
        invalidation_missed()


def learner_record_changed(sender, instance, **kwargs):
    """Signal receiver for rows that belong to a learner (progress, attempts, runs, certificates)."""
    learner_changed(key_for(user_id=instance.user_id, anon_key=getattr(instance, "anon_key", "")))


def user_changed(sender, instance, **kwargs):
    """Signal receiver for the user model: a new password, a deactivation or a deletion."""
    learner_changed(key_for(user_id=instance.pk))


class Lookup:
    """One request's look into the store: the stored response, or what is needed to store one."""

    def __init__(self, request, identity, version, page):
        self.request = request
        self.identity = identity
        self.version = version
        self.page = page

    def response(self):
        page = self.page
        if page is None or page.identity != self.identity or page.learner_version != self.version:
            return None
        if clock() >= page.fresh_until:
            return None
        html = zlib.decompress(page.compressed_html).decode().replace(CSRF_MARK, get_token(self.request))
        return HttpResponse(html, content_type=page.content_type)

    def render(self, template, context, *, learner, fresh_for):
        """Render the page for ``learner`` and keep it for ``fresh_for`` seconds at most."""
        # One token for the whole page, so the stored copy can swap it for each request's own.
        context["csrf_token"] = get_token(self.request)
        response = render(self.request, template, context)
        self._store(response, learner=learner, csrf_token=context["csrf_token"], fresh_for=fresh_for)
        return response

    def _store(self, response, *, learner, csrf_token, fresh_for):
        if response.status_code != 200 or fresh_for <= 0 or self.version is None:
            return
        if learner.key != self.identity or self.request.session.get(MESSAGES_SESSION_KEY):
            return
        html = response.content.decode(response.charset).replace(csrf_token, CSRF_MARK)
        page = StoredPage(
            identity=self.identity,
            learner_version=self.version,
            fresh_until=clock() + fresh_for,
            content_type=response["Content-Type"],
            compressed_html=zlib.compress(html.encode(), 1),
        )
        cache.set(_page_key(self.request), page, timeout=min(TIMEOUT, int(fresh_for) + 1))


def lookup(request):
    """A Lookup for a plain page view of a session that belongs to a learner; None for anything else."""
    if request.method != "GET" or request.htmx or "messages" in request.COOKIES:
        return None
    if request.META.get("QUERY_STRING"):
        return None  # the pages stored have none; any other address would only fill the cache
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    session = request.session
    # Read the session first: an unknown or expired session key is cleared by the read.
    identity = _session_identity(session)
    if identity is None or session.session_key is None or session.get(MESSAGES_SESSION_KEY):
        return None
    version_key, page_key = _version_key(identity), _page_key(request)
    found = cache.get_many([version_key, page_key])
    version = found.get(version_key)
    if version is None:
        # Unknown (first visit since the cache was emptied): start one, and store nothing older.
        cache.add(version_key, _new_version(), timeout=None)
        version = cache.get(version_key)
    return Lookup(request, identity, version, found.get(page_key))
