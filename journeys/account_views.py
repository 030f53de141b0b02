"""Sign-up and the learner's own data: download it, or delete the account with everything in it."""

import json

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from . import selectors
from .forms import AccountDeleteForm, SignupForm


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
