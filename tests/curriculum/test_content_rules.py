"""The rules files and admin share: documentation links of glossary terms and a journey's Kubernetes version."""

import pytest
from django.core.exceptions import ValidationError

from journeys.content_rules import docs_site_name, docs_url_problem, kubernetes_version_problem
from journeys.models import GlossaryTerm, Journey


@pytest.mark.parametrize(
    "url",
    [
        "https://kubernetes.io/docs/concepts/workloads/pods/",
        "https://kubernetes.io/docs/reference/glossary/?all=true#term-cluster-operator",
        "https://helm.sh/docs/topics/charts/",
    ],
)
def test_official_documentation_pages_are_accepted(url):
    assert docs_url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://kubernetes.io/docs/concepts/workloads/pods/",
        "https://kubernetes.io.evil.example/docs/",
        "https://user@kubernetes.io/docs/",
        "https://kubernetes.io:8443/docs/",
        "https://kubernetes.io",
        "https://kubernetes.io/ docs/",
        "https://github.com/kubernetes/website",
        "javascript:alert(1)",
    ],
)
def test_anything_else_is_refused(url):
    assert docs_url_problem(url)


def test_the_link_text_names_the_site():
    assert docs_site_name("https://kubernetes.io/docs/concepts/") == "Kubernetes documentation"
    assert docs_site_name("https://helm.sh/docs/") == "Helm documentation"
    assert docs_site_name("") == ""


@pytest.mark.parametrize(("value", "ok"), [("1.35", True), ("1.9", True), ("1.3x", False), ("2", False), (1.35, False)])
def test_kubernetes_versions_are_minor_versions_written_as_text(value, ok):
    assert (kubernetes_version_problem(value) is None) is ok


@pytest.mark.django_db
def test_admin_forms_refuse_the_same_values_through_the_model_validators():
    term = GlossaryTerm(slug="pod", term="Pod", definition="A pod.", docs_url="https://example.com/docs/pod/")
    with pytest.raises(ValidationError) as caught:
        term.full_clean()
    assert "docs_url" in caught.value.message_dict
    term.docs_url = "https://kubernetes.io/docs/concepts/workloads/pods/"
    term.full_clean()

    journey = Journey(slug="j", title="J", kubernetes_version="latest")
    with pytest.raises(ValidationError) as caught:
        journey.full_clean()
    assert "kubernetes_version" in caught.value.message_dict
    journey.kubernetes_version = ""
    journey.full_clean()
