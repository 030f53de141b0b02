"""Which namespace a learner's checks read. It is assigned, never typed by the learner."""

from django.conf import settings

from ..models import SandboxAssignment


def namespace_for(user):
    """The namespace (and kube context) a learner's checks read: assigned by an admin, else from the template."""
    if user is None or not user.is_authenticated:
        return None, None
    assignment = SandboxAssignment.objects.filter(user=user).first()
    if assignment is not None:
        return assignment.namespace, assignment.context or None
    template = settings.SANDBOX_NAMESPACE_TEMPLATE
    if not template:
        return None, None
    return _dns_label(template.format(username=user.get_username())), None


def _dns_label(text):
    """Make a namespace name valid: lowercase letters, digits and hyphens, at most 63 characters."""
    cleaned = "".join(character if character.isalnum() else "-" for character in text.lower())
    cleaned = "-".join(part for part in cleaned.split("-") if part)
    return cleaned[:63].strip("-")
