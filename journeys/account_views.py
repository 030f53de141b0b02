"""Sign-up, the limits on signing in and resetting passwords, and the learner's own data (download, delete)."""

import hashlib
import json
import logging
import math

from axes.handlers.cache import AxesCacheHandler
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cache_timeout, get_client_cache_keys, get_client_username, get_cool_off, get_credentials
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetView
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models import Max, Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from portal.resilience import CACHE_ERRORS, CacheUnavailableError

from . import ratelimit, selectors
from .client_address import client_address, limit_key
from .forms import AccountDeleteForm, SignupForm

limits_logger = logging.getLogger("journeys.signin_limits")
mail_logger = logging.getLogger("journeys.mail")
# What a cache that cannot be reached raises: its own errors, or (behind the outage breaker) ours.
CACHE_DOWN = (*CACHE_ERRORS, CacheUnavailableError)


def signup(request):
    if request.user.is_authenticated:
        return redirect("journeys:dashboard")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Logging in moves the progress made before signing up into the new account (see apps.py).
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Your account is ready and your progress so far is saved in it.")
        next_url = request.POST.get("next", "")
        # Only this site's own pages: a crafted link must not send a new learner elsewhere.
        if url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return redirect(next_url)
        return redirect("journeys:dashboard")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
@require_GET
def data_export(request):
    data = selectors.learner_data_export(user=request.user)
    response = HttpResponse(json.dumps(data, indent=2, default=str), content_type="application/json")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="kube-journeys-{request.user.username}-{stamp}.json"'
    return response


@login_required
def account_delete(request):
    form = AccountDeleteForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        user.delete()
        messages.success(request, "Your account and all your progress have been deleted.")
        return redirect("journeys:home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/account_delete.html", {"form": form}, status=status)


# --- Sign-in limits ---------------------------------------------------------------------------
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


def _cool_off_seconds(request):
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


def signin_paused(request, original_response=None, credentials=None):
    """What a paused sign-in answers, on the site's login page and admin's alike: 429 and the wait."""
    handler = AxesProxyHandler.get_implementation()
    wait = getattr(handler, "seconds_to_wait", lambda *args: 0)(request, credentials) or _cool_off_seconds(request)
    minutes = max(1, math.ceil(wait / 60))
    response = render(request, "registration/signin_paused.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(wait)
    return response


# --- Password reset ---------------------------------------------------------------------------


class LimitedPasswordResetView(PasswordResetView):
    """Django's reset form, limited per client address and per recipient.

    Beyond a limit the answer is the same "check your mail" page as always, and no mail goes out:
    a different answer would tell anyone whether an address has an account. The limits are fixed
    windows in the cache; while the cache is down they do not hold (journeys.ratelimit).
    """

    def form_valid(self, form):
        address = limit_key(client_address(self.request))
        recipient = hashlib.sha256(form.cleaned_data["email"].strip().lower().encode()).hexdigest()
        by_address = ratelimit.attempt(
            f"password-reset:address:{address}", limit=settings.PASSWORD_RESETS_PER_HOUR_PER_ADDRESS, window=3600
        )
        by_recipient = ratelimit.attempt(
            f"password-reset:recipient:{recipient}", limit=settings.PASSWORD_RESETS_PER_HOUR_PER_RECIPIENT, window=3600
        )
        if not (by_address.allowed and by_recipient.allowed):
            limits_logger.warning("Password reset not sent: too many requests from this address or for this recipient.")
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class UnsentMailBackend(BaseEmailBackend):
    """For production without a mail server: says a mail was due, never what it said.

    The console backend prints whole messages, and a password-reset message carries a link that
    lets whoever reads the log take over the account.
    """

    def send_messages(self, email_messages):
        for message in email_messages:
            mail_logger.warning(
                "A mail (%s) would have been sent, but no mail server is configured: set EMAIL_HOST. "
                "Its text is not logged.",
                message.subject,
            )
        return len(email_messages)
