"""Which namespace a learner's checks read when the operator gives a name template."""

import pytest

from journeys.sandbox.assignments import namespace_for
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("username", "namespace"),
    [
        ("ada", "learn-ada"),
        ("Ada.Lovelace@example.org", "learn-ada-lovelace-example-org"),
        ("andré", "learn-andr"),
        ("x" * 150, "learn-" + "x" * 57),
    ],
)
def test_the_template_always_gives_a_valid_namespace_name(settings, username, namespace):
    settings.SANDBOX_NAMESPACE_TEMPLATE = "learn-{username}"
    assert namespace_for(factories.UserFactory(username=username)) == (namespace, None)


def test_a_broken_template_gives_no_namespace_instead_of_an_error(settings, caplog):
    settings.SANDBOX_NAMESPACE_TEMPLATE = "learn-{user}"
    assert namespace_for(factories.UserFactory()) == (None, None)
    assert "SANDBOX_NAMESPACE_TEMPLATE" in caplog.text
