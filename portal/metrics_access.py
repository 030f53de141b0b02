"""Who may read /metrics: the operator's scrapers, never the internet through the Ingress.

A request is served when it carries the operator's token (``METRICS_TOKEN``, sent as
``Authorization: Bearer <token>``), or when it comes straight from an address in
``METRICS_ALLOWED_NETWORKS`` (by default loopback and the private ranges a cluster's Pods use)
without any header a proxy adds. Every common proxy header counts, not only X-Forwarded-For: a
client that simply leaves that one out, or sends Forwarded or X-Real-IP instead, is still refused.
"""

import hmac
import ipaddress
from functools import cache

from django.conf import settings

PROXY_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_FORWARDED",
    "HTTP_X_REAL_IP",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_ORIGINAL_FORWARDED_FOR",
    "HTTP_X_CLIENT_IP",
    "HTTP_TRUE_CLIENT_IP",
    "HTTP_CF_CONNECTING_IP",
    "HTTP_VIA",
)


@cache
def _networks(text):
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def allowed(request):
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[len("Bearer ") :].encode(), token.encode()):
            return True
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in network for network in _networks(settings.METRICS_ALLOWED_NETWORKS))
