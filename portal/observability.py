"""Request ids, JSON logs and an access log line per request.

Every request gets an id (the caller's X-Request-ID when it looks sane, else a new one); it is
returned in the response header and attached to every log record made while handling it, so one
request can be followed across the log of a replica.
"""

import contextvars
import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from django.contrib.auth import SESSION_KEY

from . import metrics

REQUEST_ID = contextvars.ContextVar("request_id", default="-")
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_logger = logging.getLogger("portal.access")
# Probes and scrapes arrive every few seconds; logging them would drown the real traffic.
QUIET_VIEWS = {"healthz", "readyz", "metrics"}


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors in a cluster parse without configuration."""

    FIELDS = ("method", "path", "status", "duration_ms", "view", "user_id")

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", REQUEST_ID.get()),
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            duration = time.perf_counter() - started
            view = getattr(getattr(request, "resolver_match", None), "view_name", None) or "unmatched"
            metrics.observe_request(method=request.method, view=view, status=response.status_code, seconds=duration)
            response["X-Request-ID"] = request_id
            if view not in QUIET_VIEWS and access_logger.isEnabledFor(logging.INFO):
                access_logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round(duration * 1000, 1),
                        "view": view,
                        "user_id": _user_id(request),
                    },
                )
            return response
        finally:
            REQUEST_ID.reset(token)


def _user_id(request):
    """The signed-in user's id, without a query: pages served from a store never load the user."""
    user = getattr(request, "_cached_user", None)
    if user is not None:
        return user.pk
    session = getattr(request, "session", None)
    if session is None or not session.accessed:
        return None
    try:
        user_id = session.get(SESSION_KEY)
    except Exception:  # noqa: BLE001 - a log line must never be what fails a request (database down)
        return None
    return int(user_id) if isinstance(user_id, str) and user_id.isdigit() else user_id
