"""Text the database cannot store is refused with 400, by one rule at the one place all writes pass.

PostgreSQL refuses NUL in text (and a lone UTF-16 half cannot even be encoded), so such a value in
a URL, a query string or any form field would end as a 500 wherever it reached a query. Rather than
every form and view checking its own fields, every query's parameters are checked as the query is
sent: a value that cannot be stored raises ``UnstorableTextError`` before anything is written (in
a transaction, what came before it is rolled back), and the middleware answers 400 with a message.
SQLite would store a NUL, but the rule is the same on both so the site behaves the same.
"""

import re

from django.db import connections
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.utils.html import escape

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "What you sent contains a character that cannot be stored (a NUL byte or a broken character). "
    "Remove it and send again; if you pasted text, copy it again from where it came from."
)


class UnstorableTextError(ValueError):
    pass


def _contains_unstorable(value, depth=0):
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if depth > 100:
        return False
    if isinstance(value, (list, tuple)):
        return any(_contains_unstorable(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(_contains_unstorable(pair, depth + 1) for pair in value.items())
    # A JSON value for PostgreSQL arrives wrapped in an adapter that keeps the data in .obj.
    wrapped = getattr(value, "obj", None)
    return wrapped is not None and _contains_unstorable(wrapped, depth + 1)


def refuse_unstorable_parameters(execute, sql, params, many, context):
    rows = params if many else [params]
    for row in rows or ():
        if row is not None and _contains_unstorable(list(row.values()) if isinstance(row, dict) else row):
            raise UnstorableTextError(MESSAGE)
    return execute(sql, params, many, context)


def install(sender, connection, **kwargs):
    if refuse_unstorable_parameters not in connection.execute_wrappers:
        connection.execute_wrappers.append(refuse_unstorable_parameters)


connection_created.connect(install, dispatch_uid="portal-refuse-unstorable-text")


class UnstorableTextMiddleware:
    """Answers 400 (not 500) when a request carried text the database cannot store."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Connections opened before this module was imported never sent connection_created to it.
        for alias in connections:
            install(None, connections[alias])

    def __call__(self, request):
        try:
            return self.get_response(request)
        except UnstorableTextError:
            # Raised by a middleware after the view (the session saved on the way out).
            return self._refusal(request)

    def process_exception(self, request, exception):
        if isinstance(exception, UnstorableTextError):
            return self._refusal(request)
        return None

    @staticmethod
    def _refusal(request):
        if request.headers.get("HX-Request") == "true":
            body = f'<div class="alert alert--error" role="alert"><p>{escape(MESSAGE)}</p></div>'
        else:
            body = (
                '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cannot be stored · '
                f"Kube Journeys</title></head><body><h1>That cannot be stored</h1><p>{escape(MESSAGE)}</p>"
                '<p><a href="/">Back to Kube Journeys</a></p></body></html>'
            )
        return HttpResponse(body, status=400, content_type="text/html; charset=utf-8")
