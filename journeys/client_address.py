"""The address a request came from, for limits that must hold however many cookies a client drops.

REMOTE_ADDR is the peer of the portal's own socket. Behind an Ingress controller that peer is the
controller, for every learner at once; the learner's address is then the one the controller added
to X-Forwarded-For. The header's other entries were written by the client and prove nothing, so
the portal reads only as far from the right as the operator says there are proxies of their own
(TRUSTED_PROXY_HOPS), and none at all by default.
"""

import ipaddress

from django.conf import settings


def client_address(request):
    """The client's address as the operator's nearest trusted proxy saw it (REMOTE_ADDR without one)."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < hops:
        return remote
    try:
        # Every entry a trusted proxy wrote must be an address; anything else means the header is
        # not what the operator described, and the socket's peer is the only fact left.
        trusted = [ipaddress.ip_address(entry) for entry in forwarded[-hops:]]
    except ValueError:
        return remote
    return str(trusted[0])


def limit_key(address):
    """The name an address is counted under: an IPv6 client usually holds a whole /64, so it counts as one."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if parsed.version == 6:
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
