"""Whole lesson pages for readers who have no session yet (most anonymous traffic).

Such a page is the same for every first-time reader except two values: the CSRF token and the
signed quiz token. The rendered page is cached per content version with those two replaced by
markers, and each response gets fresh ones; the quiz form keeps the seed, the questions and the
digest of their meaning it was rendered with (each new token is that form renewed), so every
first-time reader sees the same question order until they start a session (after which their own
open form, with its own seed, is used).
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render as render_template

from .content_version import cached_get, cached_set, content_version

CSRF_MARK = "__kube_journeys_csrf_token__"
QUIZ_MARK = "__kube_journeys_quiz_token__"


@dataclass
class CachedPage:
    html: str
    content_type: str
    # The page's quiz form (an OpenQuizForm handed to nobody known): each reader gets it renewed.
    quiz_form: object = None


def applies(request):
    """Only plain GETs from readers with no session and no pending messages can share a page."""
    return (
        request.method == "GET"
        and not request.htmx
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        # Without a session this needs no query; asked first, it would cost every signed-in reader one.
        and not request.user.is_authenticated
    )


def _name(request):
    return "page:" + hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]


# Each worker keeps the pages it served recently, so a hit costs neither a cache round trip nor
# unpickling; entries are only used while the content version they were made for is current.
LOCAL_PAGES = 256
_local_pages = {}


def _local_get(name, version):
    entry = _local_pages.get(name)
    return entry[1] if entry is not None and entry[0] == version else None


def _local_put(name, version, page):
    if len(_local_pages) >= LOCAL_PAGES:
        _local_pages.clear()
    _local_pages[name] = (version, page)


def serve(request):
    """The cached page with fresh tokens, or None."""
    name, version = _name(request), content_version()
    page = _local_get(name, version)
    if page is None:
        page = cached_get(name)
        if page is None:
            return None
        _local_put(name, version, page)
    html = page.html.replace(CSRF_MARK, get_token(request))
    if page.quiz_form is not None:
        html = html.replace(QUIZ_MARK, page.quiz_form.renewed().token)
    return HttpResponse(html, content_type=page.content_type)


def render(request, template, context):
    """Render the page every first-time reader shares, and keep it for them (see ``serve``)."""
    # One token for the whole page, so the cached copy can swap it for each reader's own.
    context["csrf_token"] = get_token(request)
    response = render_template(request, template, context)
    store(request, response, csrf_token=context["csrf_token"], quiz_form=context.get("open_form"))
    return response


def store(request, response, *, csrf_token, quiz_form=None):
    if response.status_code != 200:
        return
    html = response.content.decode(response.charset).replace(csrf_token, CSRF_MARK)
    page = CachedPage(html=html, content_type=response["Content-Type"])
    if quiz_form is not None:
        page.html = page.html.replace(quiz_form.token, QUIZ_MARK)
        page.quiz_form = quiz_form
    name = _name(request)
    cached_set(name, page)
    _local_put(name, content_version(), page)
