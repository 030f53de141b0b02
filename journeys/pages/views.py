"""A form sent from a page that is out of date: the session behind it ended, or changed in another tab.

Django refuses such a form (its CSRF token no longer matches); this says so in plain words. For an
htmx form the answer is a small alert inserted just before the form that was sent, whatever panel
it sits in (a lab, a quiz, a lesson's completion), so the page and what the learner typed stay.
"""

from urllib.parse import urlsplit

from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

TEMPLATE = "pages/csrf_failure.html"


def csrf_failure(request, reason=""):
    htmx = request.headers.get("HX-Request") == "true"
    context = {"reload_url": _page_url(request, htmx=htmx)}
    if not htmx:
        return render(request, TEMPLATE, context, status=403)
    response = render(request, f"{TEMPLATE}#alert", context, status=403)
    # "this" is the element that sent the request: the form, not the panel the form would replace.
    response["HX-Retarget"] = "this"
    response["HX-Reswap"] = "beforebegin"
    return response


def _page_url(request, *, htmx):
    """The page the form was on, when it is one of this site's; else None."""
    url = request.headers.get("HX-Current-URL" if htmx else "Referer", "")
    if not url or not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
