"""Which namespace a learner's checks read. It is assigned, never typed by the learner."""

import hashlib
import logging

from django.conf import settings

from ..models import Sandbox, SandboxAssignment
from .provisioning import provisioning_enabled

logger = logging.getLogger(__name__)


def namespace_for(user):
    """The namespace (and kube context) a learner's checks read.

    An admin's assignment wins. With provisioning on, it is the sandbox the portal made for them, and
    none until they create it (the template's name would point at a namespace that does not exist
    yet). Otherwise it is the name the template gives them.
    """
    if user is None or not user.is_authenticated:
        return None, None
    assignment = SandboxAssignment.objects.filter(user=user).first()
    if assignment is not None:
        return assignment.namespace, assignment.context or None
    if provisioning_enabled():
        sandbox = Sandbox.objects.filter(user=user).only("namespace").first()
        return (sandbox.namespace if sandbox is not None else None), None
    return template_namespace(user), None


def template_namespace(user):
    """The namespace SANDBOX_NAMESPACE_TEMPLATE gives a user (the one provisioning creates), or None."""
    template = settings.SANDBOX_NAMESPACE_TEMPLATE
    if not template:
        return None
    try:
        name = template.format(username=_username_part(user.get_username()))
    except (KeyError, IndexError, ValueError):
        # An operator's typo ({user} for {username}) must not break every lab panel.
        logger.error("SANDBOX_NAMESPACE_TEMPLATE %r is not valid: use {username} as the only placeholder", template)
        return None
    return _dns_label(name) or None


def _username_part(username):
    """The username as the template uses it; one with no ASCII letter or digit gets a stable stand-in.

    Otherwise "日本語" and "Ελένη" would both vanish from learn-{username}, leaving every such learner the
    same name (and, with provisioning, one that is only the prefix).
    """
    if _dns_label(username):
        return username
    return "u" + hashlib.sha256(username.encode("utf-8")).hexdigest()[:10]


def _dns_label(text):
    """Make a namespace name valid: lowercase letters, digits and hyphens, at most 63 characters."""
    # isalnum() alone would keep letters such as é, which a namespace name may not hold.
    cleaned = "".join(character if character.isascii() and character.isalnum() else "-" for character in text.lower())
    cleaned = "-".join(part for part in cleaned.split("-") if part)
    return cleaned[:63].strip("-")
