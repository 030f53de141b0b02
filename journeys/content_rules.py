"""Rules that curriculum files and admin edits share, so both refuse the same values with the same words.

Pure functions (no database): the file validator (``curriculum.files``) reports a problem with its file
and line, and the model fields wrap the same functions as Django validators for admin forms.
"""

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

# The sites a glossary term may link to: the official Kubernetes documentation, and Helm's for Helm terms.
OFFICIAL_DOCS_SITES = {"kubernetes.io": "Kubernetes documentation", "helm.sh": "Helm documentation"}
KUBERNETES_VERSION = re.compile(r"^1\.[0-9]{1,3}$")


def docs_url_problem(url):
    """Why ``url`` cannot be a glossary term's documentation link, or None when it can."""
    if not isinstance(url, str) or not url.strip():
        return "must be a web address such as https://kubernetes.io/docs/concepts/workloads/pods/"
    if any(character.isspace() for character in url):
        return f"must not contain spaces: {url!r}"
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname not in OFFICIAL_DOCS_SITES or parts.username or parts.port:
        return (
            "must be a page of the official documentation, starting with https://kubernetes.io/ "
            f"(or https://helm.sh/ for Helm terms), not {url!r}"
        )
    if parts.path in ("", "/"):
        return f"must point at the page about the term, not at the home page: {url!r}"
    return None


def docs_site_name(url):
    """'Kubernetes documentation' or 'Helm documentation', for link text; '' for anything else."""
    return OFFICIAL_DOCS_SITES.get(urlsplit(url or "").hostname or "", "")


def kubernetes_version_problem(value):
    """Why ``value`` is not a Kubernetes minor version such as "1.34", or None when it is."""
    if isinstance(value, float):
        return (
            f'must be written in quotes, such as "1.34": unquoted, YAML reads {value!r} as a number (and 1.30 as 1.3)'
        )
    if not isinstance(value, str) or not KUBERNETES_VERSION.match(value.strip()):
        return f'must be a Kubernetes minor version such as "1.34", not {value!r}'
    return None


def validate_docs_url(value):
    if value and (problem := docs_url_problem(value)):
        raise ValidationError(f"The documentation link {problem}.", code="docs_url")


def validate_kubernetes_version(value):
    if value and (problem := kubernetes_version_problem(value)):
        raise ValidationError(f"The Kubernetes version {problem}.", code="kubernetes_version")
