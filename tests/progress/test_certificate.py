"""The certificate page: the name its owner prints on it, printing and sharing, and codes that match nothing."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from journeys.models import Certificate
from tests import factories

pytestmark = pytest.mark.django_db

CODE = "0123456789abcdef0123"


@pytest.fixture
def certificate(user):
    journey = factories.JourneyFactory()
    return Certificate.objects.create(user=user, journey=journey, code=CODE, learner_name=user.username)


def name_url(certificate):
    return reverse("journeys:certificate_name", args=[certificate.code])


def test_the_owner_sees_the_name_form_print_button_and_share_link(client, certificate):
    client.force_login(certificate.user)
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert f'action="{name_url(certificate)}"' in page
    assert 'name="learner_name"' in page and f'value="{certificate.learner_name}"' in page
    assert "data-print" in page and "Print or save as PDF" in page
    assert "Print command (Ctrl+P" in page  # how to print without JavaScript
    share = f"http://testserver{certificate.get_absolute_url()}"
    assert f'id="certificate-link" type="url" value="{share}" readonly' in page
    assert 'data-copy="certificate-link"' in page and "js/certificate.js" in page


def test_other_visitors_see_the_certificate_without_the_owners_tools(client, certificate):
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert "This certificate is genuine" in page
    assert 'name="learner_name"' not in page and "data-print" not in page
    client.force_login(factories.UserFactory())
    assert 'name="learner_name"' not in client.get(certificate.get_absolute_url()).content.decode()


def test_the_owner_sets_the_name_to_print_trimmed(client, certificate):
    client.force_login(certificate.user)
    response = client.post(name_url(certificate), {"learner_name": "  Grace Brewster Hopper \t "})
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()
    certificate.refresh_from_db()
    assert certificate.learner_name == "Grace Brewster Hopper"
    page = client.get(certificate.get_absolute_url()).content.decode()
    assert '<h1 id="certificate-title">Grace Brewster Hopper</h1>' in page
    assert "your certificate now reads “Grace Brewster Hopper”" in page


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Type the name to print on the certificate."),
        ("   ", "Type the name to print on the certificate."),
        ("Ada\x00Lovelace", "contains a control character"),
        ("Ada\nLovelace", "contains a control character"),
        ("Ada\x1bLovelace", "contains a control character"),
        ("Ada \u202eecalevoL", "contains a control character"),
        ("A" * 121, "at most 120 characters long (this one has 121): shorten it."),
        ("A" * 100_000, "at most 120 characters long"),
    ],
)
def test_bad_names_are_refused_with_a_clear_message_and_change_nothing(client, certificate, name, message):
    before = certificate.learner_name
    client.force_login(certificate.user)
    response = client.post(name_url(certificate), {"learner_name": name})
    assert response.status_code == 400
    assert message in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.learner_name == before


def test_a_missing_field_is_refused_too(client, certificate):
    client.force_login(certificate.user)
    assert client.post(name_url(certificate), {}).status_code == 400


def test_the_longest_name_is_accepted(client, certificate):
    client.force_login(certificate.user)
    assert client.post(name_url(certificate), {"learner_name": "Ĳ" * 120}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.learner_name == "Ĳ" * 120


def test_another_learner_cannot_change_the_name(client, certificate):
    client.force_login(factories.UserFactory())
    response = client.post(name_url(certificate), {"learner_name": "Mallory"})
    assert response.status_code == 403
    assert "Only its owner can change this certificate" in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.learner_name != "Mallory"


def test_an_anonymous_visitor_is_sent_to_log_in_and_nothing_changes(client, certificate):
    response = client.post(name_url(certificate), {"learner_name": "Mallory"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    certificate.refresh_from_db()
    assert certificate.learner_name != "Mallory"


def test_changing_the_name_needs_a_post_with_a_csrf_token(certificate):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(certificate.user)
    assert client.get(name_url(certificate)).status_code == 405
    assert client.post(name_url(certificate), {"learner_name": "Forged"}).status_code == 403
    certificate.refresh_from_db()
    assert certificate.learner_name != "Forged"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("code", ["0123456789abcdef0124", "nope", "x" * 65, "bad code", "%00", "a%00b", "é"])
def test_an_unknown_or_malformed_code_is_not_a_valid_certificate(client, certificate, code, debug):
    with override_settings(DEBUG=debug):
        response = client.get(f"/certificates/{code}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This is not a valid Kube Journeys certificate" in page
    assert "What to check" in page
    assert "may not be published yet" not in page


def test_renaming_with_an_unknown_code_is_404(client, certificate):
    client.force_login(certificate.user)
    response = client.post("/certificates/nope/name/", {"learner_name": "Ada"})
    assert response.status_code == 404
    assert "This is not a valid Kube Journeys certificate" in response.content.decode()


def test_the_learners_data_export_carries_the_name_on_the_certificate(client, certificate):
    client.force_login(certificate.user)
    client.post(name_url(certificate), {"learner_name": "Grace Hopper"})
    data = json.loads(client.get(reverse("journeys:data_export")).content)
    assert data["certificates"] == [
        {
            "journey": certificate.journey.slug,
            "code": CODE,
            "learner_name": "Grace Hopper",
            "issued_at": data["certificates"][0]["issued_at"],
        }
    ]


def test_deleting_the_account_deletes_the_certificate_and_its_name(client, certificate):
    client.force_login(certificate.user)
    certificate.user.set_password("Secret-k8s-pass")
    certificate.user.save()
    client.force_login(certificate.user)
    client.post(reverse("journeys:account_delete"), {"password": "Secret-k8s-pass"})
    assert not Certificate.objects.exists()
    assert client.get(certificate.get_absolute_url()).status_code == 404
