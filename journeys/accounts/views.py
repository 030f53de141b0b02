"""Sign-up, the learner's own data (download, delete), and what a paused sign-in or a limited reset answers."""

import hashlib
import json
import math

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetView
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from .. import ratelimit
from ..client_address import client_address, limit_key
from ..progress import selectors
from ..sandbox.sandboxes import remove_for_account
from .forms import AccountDeleteForm, SignupForm
from .signin_limits import cool_off_seconds, limits_logger


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
    return render(request, "accounts/signup.html", {"form": form}, status=status)


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
        # Before the account goes, so the event names who asked; a cluster that fails does not stop it.
        remove_for_account(user)
        logout(request)
        user.delete()
        messages.success(request, "Your account and all your progress have been deleted.")
        return redirect("journeys:home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/account_delete.html", {"form": form}, status=status)


def signin_paused(request, original_response=None, credentials=None):
    """What a paused sign-in answers, on the site's login page and admin's alike: 429 and the wait."""
    handler = AxesProxyHandler.get_implementation()
    wait = getattr(handler, "seconds_to_wait", lambda *args: 0)(request, credentials) or cool_off_seconds(request)
    minutes = max(1, math.ceil(wait / 60))
    response = render(request, "accounts/signin_paused.html", {"minutes": minutes}, status=429)
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
