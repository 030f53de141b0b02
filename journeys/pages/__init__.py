"""How whole pages are cached and served: the one place that decides, for every view that declares it.

Three rules, each in its own module:

- **The content version** (``content_version``): a value in the shared cache that every curriculum
  edit replaces (admin, ``load_journeys``, bulk updates). Cached reads and stored pages are keyed by
  it, so an edit retires all of them on every replica within a second.
- **The shared anonymous page** (``shared_page``): a plain GET from a reader with no session is the
  same page for every such reader except the CSRF token and the quiz form's token. It is rendered
  once per content version and address, and served with fresh tokens to everyone else.
- **A learner's stored page** (``learner_page``): a signed-in learner's (or a known visitor's) page
  is kept per session and address until something it shows changes: their own records (their
  state version), the curriculum (the content version), or the time it may be shown has passed.

A view declares which apply with ``@cached_page`` (``shared=True`` when first-time readers may share
one copy) and returns a ``Page``: the template, its context, whose page it is and how long it stays
true. The view never looks at a cache; what it renders is the page, whichever way it is served.
"""

from functools import wraps

from django.shortcuts import render
from django.template.response import TemplateResponse

from . import learner_page, shared_page


class Page(TemplateResponse):
    """A page a ``@cached_page`` view renders: for ``learner``, true for ``fresh_for`` seconds.

    On its own it is an ordinary TemplateResponse. A page that shows a quiz form keeps it in the
    context as ``open_form``: its token is the one part of a shared page made anew for each reader.
    """

    def __init__(self, request, template, context, *, learner, fresh_for, **kwargs):
        super().__init__(request, template, context, **kwargs)
        self.learner = learner
        self.fresh_for = fresh_for


def cached_page(*, shared=False):
    """Serve the view's page from the store that applies to the request, else render and keep it.

    ``shared``: readers with no session get one copy of the page (see ``shared_page``); everyone
    else with a session gets their own stored page (see ``learner_page``). A view's response that
    is not a ``Page`` (a redirect, an error) passes through untouched.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            shares = shared and shared_page.applies(request)
            if shares and (response := shared_page.serve(request)) is not None:
                return response
            stored = None if shares else learner_page.lookup(request)
            if stored is not None and (response := stored.response()) is not None:
                return response
            page = view(request, *args, **kwargs)
            if not isinstance(page, Page):
                return page
            template, context = page.template_name, page.context_data
            if stored is not None:
                return stored.render(template, context, learner=page.learner, fresh_for=page.fresh_for)
            if shares:
                return shared_page.render(request, template, context)
            return render(request, template, context)

        return wrapper

    return decorator
