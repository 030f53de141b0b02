"""The learner's own provisioned sandbox: create, reset, delete it, and fetch its credentials.

Every action is on ``request.user``'s sandbox: no address names a sandbox or a user, so nobody can
act on someone else's. With provisioning off every address here answers 404 and nothing is shown.

A token reaches the learner in one answer only, marked ``no-store``: the kubeconfig download, or
the ``kubectl config`` commands a button fetches. Pages that may be stored (the dashboard, a lab
panel) never hold one.
"""

import shlex
from functools import wraps
from urllib.parse import unquote, urlsplit

import yaml
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .. import ratelimit
from ..models import Sandbox
from . import sandboxes
from .provisioning import ProvisioningError, provisioning_enabled

SECTION_TEMPLATE = "sandbox/my_sandbox.html"

# Failures the learner can do something about (wait, create first) are conflicts; the rest are
# the cluster's or the operator's side, which the learner can only wait for or report.
CONFLICT_CODES = {"terminating", "conflict", "taken", "incomplete", "no-sandbox", "not-found", "gone"}
CONFLICT, FORBIDDEN, RATE_LIMITED, UNAVAILABLE = 409, 403, 429, 503
RETRY_SECONDS = 5
# Asking again while the old namespace is still being removed, as the learner is told to: once per
# RETRY_SECONDS is what the page asks for, so that many a minute are allowed, on a count of their own.
WAITS_PER_MINUTE = 60 // RETRY_SECONDS


def section_context(request, *, error=None, notice=None, confirm=None, commands=None):
    """What the "Your sandbox" section shows; None when provisioning is off (then it costs no query)."""
    if not provisioning_enabled():
        return None
    user = request.user
    signed_in = user.is_authenticated
    sandbox = sandboxes.sandbox_for(user) if signed_in else None
    hours = settings.SANDBOX_TOKEN_SECONDS / 3600
    return {
        "signed_in": signed_in,
        "sandbox": sandbox,
        "settling": sandbox is not None and sandbox.state != Sandbox.State.READY,
        "token_hours": int(hours) if hours == int(hours) else round(hours, 1),
        "expire_days": settings.SANDBOX_EXPIRE_DAYS,
        "next": _next_url(request),
        "error": error,
        "notice": notice,
        "confirm": confirm,
        "commands": commands,
    }


def _next_url(request):
    wanted = request.POST.get("next") or request.GET.get("next") or request.get_full_path()
    # Only a path of this site, and never one of the sandbox's own addresses (POST-only ones among them),
    # however it is spelt: /%73andbox/… and //host/sandbox/… are the same addresses to a browser.
    local = url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=False)
    if not local or not wanted.startswith("/") or wanted.startswith("//"):
        return ""
    if unquote(urlsplit(wanted).path).startswith(reverse("journeys:my_sandbox")):
        return ""
    return wanted


def _back(request):
    return redirect(_next_url(request) or "journeys:dashboard")


def _answer(request, status=200, **context):
    """The section (htmx) or the sandbox page (without JavaScript), with ``status``."""
    section = section_context(request, **context)
    if request.htmx:
        return render(request, f"{SECTION_TEMPLATE}#section", {"sandbox_section": section}, status=status)
    return render(request, SECTION_TEMPLATE, {"sandbox_section": section}, status=status)


def _failure(request, exc):
    status = CONFLICT if exc.code in CONFLICT_CODES else UNAVAILABLE
    response = _answer(request, status, error=exc.message)
    if exc.code in {"terminating", "unreachable", "timeout", "server-error"}:
        response["Retry-After"] = str(RETRY_SECONDS)
    return response


def _limited(request, wait):
    message = f"You have asked for this several times in the last minute. Try again in {wait} seconds."
    response = _answer(request, RATE_LIMITED, error=message)
    response["Retry-After"] = str(wait)
    return response


def provisioning_only(view):
    """404 with provisioning off, whatever the method: outermost but for never_cache, so that nothing,
    not even a 405 naming the allowed methods, tells a visitor of a portal without sandboxes that these
    addresses exist."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not provisioning_enabled():
            raise Http404("This portal does not hand out sandboxes.")
        return view(request, *args, **kwargs)

    return wrapper


def learner_only(view):
    """Anonymous visitors are told to sign up (403), never shown a sandbox."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _answer(request, FORBIDDEN)
        return view(request, *args, **kwargs)

    return wrapper


def _attempt(request, what, limit):
    return ratelimit.attempt(f"sandbox-{what}:user:{request.user.pk}", limit=limit)


def _change_attempt(request):
    """A create or reset counts as a change, or, while the old namespace is still going, as a wait.

    Returns (attempt, waiting).
    """
    sandbox = sandboxes.sandbox_for(request.user)
    if sandbox is not None and sandbox.state == Sandbox.State.TERMINATING:
        return _attempt(request, "wait", WAITS_PER_MINUTE), True
    return _attempt(request, "change", settings.SANDBOX_CHANGES_PER_MINUTE), False


def _done(request, message, **context):
    if request.htmx:
        return _answer(request, notice=message, **context)
    messages.success(request, message)
    return _back(request)


@provisioning_only
@require_GET
@learner_only
def my_sandbox(request):
    """The section on a page of its own: where the buttons lead without JavaScript."""
    return _answer(request)


@provisioning_only
@require_POST
@learner_only
def sandbox_create(request):
    return _build(request, sandboxes.create_sandbox, "Your sandbox is ready: the namespace {} is yours.")


def _build(request, service, done):
    """Create or reset: limited per learner; "still being removed" answers 202, the section saying so."""
    attempt, waiting = _change_attempt(request)
    if not attempt.allowed:
        return _limited(request, attempt.wait)
    try:
        sandbox = service(request.user)
    except ProvisioningError as exc:
        if exc.code == "terminating" and not waiting:
            # "Still being removed" built nothing: asking again in a moment, as told, must not use up the
            # limit of changes; those asks count as waits from now on.
            attempt.refund()
        return _failure(request, exc)
    if sandbox.state == Sandbox.State.TERMINATING:
        # Not a failure: the cluster takes a while to empty a namespace.
        return _answer(request, 202)
    return _done(request, done.format(sandbox.namespace))


def _confirmed(request):
    return request.POST.get("confirm") == "yes"


@provisioning_only
@require_POST
@learner_only
def sandbox_reset(request):
    if not _confirmed(request):
        return _answer(request, confirm="reset")
    if sandboxes.sandbox_for(request.user) is None:
        return _answer(request, CONFLICT, error="You have no sandbox to reset. Create it first.")
    done = "Your sandbox has been reset: {} is empty again, with a fresh account."
    return _build(request, sandboxes.reset_sandbox, done)


@provisioning_only
@require_POST
@learner_only
def sandbox_delete(request):
    if not _confirmed(request):
        return _answer(request, confirm="delete")
    try:
        namespace = sandboxes.delete_sandbox(request.user)
    except ProvisioningError as exc:
        return _failure(request, exc)
    if namespace is None:
        return _done(request, "You have no sandbox: there was nothing to delete.")
    return _done(request, f"Your sandbox {namespace} is being deleted, with everything in it.")


def _credentials(request):
    """(credentials, None) or (None, the refusal to send)."""
    attempt = _attempt(request, "token", settings.SANDBOX_TOKENS_PER_MINUTE)
    if not attempt.allowed:
        return None, _limited(request, attempt.wait)
    try:
        return sandboxes.sandbox_credentials(request.user), None
    except ProvisioningError as exc:
        return None, _failure(request, exc)


@never_cache
@provisioning_only
@require_GET
@learner_only
def sandbox_kubeconfig(request):
    """A kubeconfig with a fresh token, made for this answer only."""
    credentials, refusal = _credentials(request)
    if refusal is not None:
        return refusal
    response = HttpResponse(credentials.kubeconfig, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kubeconfig-{credentials.namespace}.yaml"'
    return response


@never_cache
@provisioning_only
@require_GET
@learner_only
def sandbox_commands(request):
    """The ``kubectl config`` commands that set up the same context, with a fresh token."""
    credentials, refusal = _credentials(request)
    if refusal is not None:
        return refusal
    return _answer(request, commands=kubectl_commands(credentials.kubeconfig))


def kubectl_commands(kubeconfig_text):
    """The commands that add the kubeconfig's cluster, user and context to the learner's own kubeconfig."""
    document = yaml.safe_load(kubeconfig_text)
    [cluster] = document["clusters"]
    [user] = document["users"]
    [context] = document["contexts"]
    quote = shlex.quote
    lines = [f"kubectl config set-cluster {quote(cluster['name'])} --server={quote(cluster['cluster']['server'])}"]
    ca_data = cluster["cluster"].get("certificate-authority-data")
    if ca_data:
        lines.append(
            f"kubectl config set clusters.{quote(cluster['name'])}.certificate-authority-data {quote(ca_data)}"
        )
    lines.append(f"kubectl config set-credentials {quote(user['name'])} --token={quote(user['user']['token'])}")
    details = context["context"]
    lines.append(
        f"kubectl config set-context {quote(context['name'])} --cluster={quote(details['cluster'])} "
        f"--user={quote(details['user'])} --namespace={quote(details['namespace'])}"
    )
    lines.append(f"kubectl config use-context {quote(context['name'])}")
    return "\n".join(lines)
