"""The glossary page: dictionary order whatever the case, and an A to Z index of its letters."""

import re

import pytest
from django.urls import reverse
from django.utils.text import slugify

from journeys.curriculum.selectors import glossary_index, glossary_initial, glossary_sort_key, glossary_terms
from journeys.models import GlossaryTerm


def add_terms(*names):
    for name in names:
        GlossaryTerm.objects.create(slug=slugify(name) or "other", term=name, definition=f"About {name}.")


def test_terms_sort_whatever_their_case_or_accents(db):
    add_terms("Taint and toleration", "kubeconfig", "Label", "Job", "étcd", "Deployment", "apply")
    assert [term.term for term in glossary_terms()] == [
        "apply", "Deployment", "étcd", "Job", "kubeconfig", "Label", "Taint and toleration",
    ]  # fmt: skip


def test_initials_fold_case_and_accents_and_file_the_rest_under_other():
    assert glossary_initial("kubeconfig") == "K"
    assert glossary_initial("étcd") == "E"
    assert glossary_initial("  Pod") == "P"
    assert glossary_initial("3-way merge") == "#"
    assert glossary_sort_key("Job") < glossary_sort_key("kubeconfig") < glossary_sort_key("Label")


def test_the_index_lists_every_letter_and_other_only_when_needed(db):
    add_terms("Job", "kubeconfig", "Kustomize")
    index = glossary_index(glossary_terms())
    assert [group.letter for group in index] == list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    by_letter = {group.letter: [term.term for term in group.terms] for group in index}
    assert by_letter["K"] == ["kubeconfig", "Kustomize"] and by_letter["A"] == []
    add_terms("3-way merge")
    assert glossary_index(glossary_terms())[-1].letter == "#"


def test_the_real_glossary_puts_kubeconfig_between_job_and_label_selector(client, curriculum):
    content = client.get(reverse("journeys:glossary")).content.decode()
    names = re.findall(r"<dt>(.*?)</dt>", content)
    assert names == sorted(names, key=str.casefold)
    assert names.index("Job") < names.index("kubeconfig") < names.index("Label selector")
    assert names.index("kubeconfig") < names.index("Taint and toleration")


def test_the_index_links_letters_with_terms_and_disables_the_others(client, curriculum):
    content = client.get(reverse("journeys:glossary")).content.decode()
    nav = re.search(r'<nav class="glossary-index" aria-label="Glossary index, A to Z">(.*?)</nav>', content, re.S)
    assert nav, "the index is a nav with a label"
    initials = {glossary_initial(term.term) for term in GlossaryTerm.objects.all()}
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        anchor = f"letter-{letter.lower()}"
        if letter in initials:
            assert f'href="#{anchor}"' in nav.group(1), letter
            assert f'<h2 id="{anchor}"' in content, letter
        else:
            assert f'href="#{anchor}"' not in nav.group(1), letter
            assert f"{letter}: no terms" in nav.group(1), letter
            assert f'id="{anchor}"' not in content, letter
    assert "X" not in initials  # the real glossary has letters without terms, shown disabled


@pytest.mark.django_db
def test_an_empty_glossary_says_so(client):
    content = client.get(reverse("journeys:glossary")).content.decode()
    assert "The glossary is empty." in content and "glossary-index" not in content
