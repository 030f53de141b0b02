"""Failed sign-ins limited per account and per address: django-axes handlers counting in the cache or the database."""

import logging

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cache_timeout, get_client_cache_keys, get_client_username, get_cool_off, get_credentials
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

from portal.resilience import CACHE_ERRORS, CacheUnavailableError

from .. import ratelimit

limits_logger = logging.getLogger("journeys.signin_limits")
# What a cache that cannot be reached raises: its own errors, or (behind the outage breaker) ours.
CACHE_DOWN = (*CACHE_ERRORS, CacheUnavailableError)


# django-axes counts failed sign-ins; these handlers give it two limits at once. The counts are kept
# per account and address (AXES_LOCKOUT_PARAMETERS' first entry: a learner who mistypes is paused
# without anyone else being affected) and per address alone (its second entry: one address trying
# many accounts is paused too, after more failures). axes compares a single number with
# AXES_FAILURE_LIMIT, so ``get_failures`` answers that limit as soon as either of ours is reached.


def _reached(account_failures, address_failures):
    return (
        account_failures >= settings.SIGNIN_ACCOUNT_FAILURE_LIMIT
        or address_failures >= settings.SIGNIN_ADDRESS_FAILURE_LIMIT
    )


def _as_axes_failures(counts):
    account_failures, address_failures = counts
    if _reached(account_failures, address_failures):
        return settings.AXES_FAILURE_LIMIT
    return min(account_failures, settings.AXES_FAILURE_LIMIT - 1)


def cool_off_seconds(request):
    return int(get_cool_off(request).total_seconds())


class DatabaseSignInLimits(AxesDatabaseHandler):
    """Counts in the database: for a single replica without Redis, and while Redis is unavailable."""

    def failure_counts(self, request, credentials=None):
        return [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]

    def get_failures(self, request, credentials=None):
        return _as_axes_failures(self.failure_counts(request, credentials))

    def seconds_to_wait(self, request, credentials=None):
        latest = None
        for attempts in self.get_user_attempts(request, credentials):
            newest = attempts.aggregate(newest=Max("attempt_time"))["newest"]
            if newest and (latest is None or newest > latest):
                latest = newest
        if latest is None:
            return 0
        return max(0, int((latest + get_cool_off(request) - timezone.now()).total_seconds()))

    def user_logged_in(self, sender, request, user, **kwargs):
        # Only this account's count from this address: signing in to an account of one's own must
        # not wipe the address's count of failures on other accounts.
        AccessAttempt.objects.filter(username=user.get_username(), ip_address=request.axes_ip_address).delete()


class CacheSignInLimits(AxesCacheHandler):
    """Counts in the shared cache (Redis), so every replica sees every failure.

    When the cache cannot be reached, failures are counted in the database instead (slower, but
    shared by the replicas as well), and the database's counts are always added to the cache's:
    failures counted during an outage still hold once Redis is back. What an outage forgets are the
    counts Redis held before it: at worst a fresh set of attempts, never an open door.
    """

    def __init__(self):
        super().__init__()
        self.database = DatabaseSignInLimits()

    # axes forwards the database's record signals to the configured handler: the records written
    # during an outage are the database handler's.
    def post_save_access_attempt(self, instance, **kwargs):
        self.database.post_save_access_attempt(instance, **kwargs)

    def post_delete_access_attempt(self, instance, **kwargs):
        self.database.post_delete_access_attempt(instance, **kwargs)

    def _cache_counts(self, request, credentials):
        keys = get_client_cache_keys(request, credentials)
        try:
            found = self.cache.get_many(keys)
        except CACHE_DOWN as exc:
            limits_logger.warning("Sign-in limits: the cache is unavailable (%r); counting in the database.", exc)
            found = {}
        return [int(found.get(key) or 0) for key in keys]

    def get_failures(self, request, credentials=None):
        cached = self._cache_counts(request, credentials)
        stored = self.database.failure_counts(request, credentials)
        return _as_axes_failures([a + b for a, b in zip(cached, stored, strict=True)])

    def seconds_to_wait(self, request, credentials=None):
        wait = self.database.seconds_to_wait(request, credentials)
        ttl = getattr(self.cache, "ttl", None)
        for key in get_client_cache_keys(request, credentials):
            try:
                remaining = ttl(key) if ttl else None
            except CACHE_DOWN:
                remaining = None
            if remaining:
                wait = max(wait, int(remaining))
        return wait

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is None:
            return
        username = get_client_username(request, credentials)
        if request.axes_locked_out:
            # Refused because the pause is on: not counted, so the wait shown stays the wait left.
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
            return
        if self.is_whitelisted(request, credentials):
            return
        timeout = get_cache_timeout(request)
        try:
            for key in get_client_cache_keys(request, credentials):
                # The pause runs from the last failure: each one restarts the counter's time.
                if ratelimit.count(key, timeout=timeout, store=self.cache) > 1:
                    self.cache.touch(key, timeout=timeout)
        except CACHE_DOWN as exc:
            limits_logger.warning("Sign-in limits: the cache is unavailable (%r); counting in the database.", exc)
            self.database.user_login_failed(sender, credentials, request, **kwargs)
            return
        if self.get_failures(request, credentials) >= settings.AXES_FAILURE_LIMIT:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def user_logged_in(self, sender, request, user, **kwargs):
        # As in the database: only this account's count from this address is forgotten.
        account_key = get_client_cache_keys(request, get_credentials(user.get_username()))[0]
        try:
            self.cache.delete(account_key)
        except CACHE_DOWN as exc:
            limits_logger.warning("Sign-in limits: the cache is unavailable (%r); count not reset.", exc)
        self.database.user_logged_in(sender, request, user, **kwargs)
