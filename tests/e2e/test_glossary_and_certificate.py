"""The glossary's A to Z index and the learner's certificate (name, print, share), in Chromium, light and dark."""

import re

import pytest
from playwright.sync_api import expect

from journeys.models import Certificate

from .support import axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CERTIFICATE = "/certificates/e2e0c0ffee/"
PHONE = {"width": 375, "height": 812}


def assert_accessible(page, label):
    violations = axe_violations(page, label)
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_glossary_index_leads_to_each_letter(site, page, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto("/glossary/")
    index = page.get_by_role("navigation", name="Glossary index, A to Z")
    expect(index).to_be_visible()
    expect(index.get_by_role("link")).not_to_have_count(0)
    # Letters without terms are there, but not links.
    expect(index.get_by_text("X: no terms")).to_have_count(1)
    expect(index.get_by_role("link", name=re.compile(r"^X\b"))).to_have_count(0)

    index.get_by_role("link", name=re.compile(r"^K\b")).click()
    expect(page).to_have_url(re.compile(r"/glossary/#letter-k$"))
    heading = page.get_by_role("heading", name="K", exact=True)
    expect(heading).to_be_in_viewport()
    terms = page.locator("section[aria-labelledby='letter-k'] dt").all_inner_texts()
    assert terms[0] == "kubeconfig" and terms == sorted(terms, key=str.casefold)

    names = page.locator(".glossary dt").all_inner_texts()
    assert names.index("Job") < names.index("kubeconfig") < names.index("Label selector")
    assert_accessible(page, f"{scheme} glossary")


def test_the_glossary_index_wraps_on_a_phone(site, browser, browser_context_args):
    context = browser.new_context(**{**browser_context_args, "viewport": PHONE}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        page.goto("/glossary/")
        assert horizontal_overflow(page)["excess"] <= 0
        box = page.get_by_role("navigation", name="Glossary index, A to Z").bounding_box()
        assert box["width"] <= PHONE["width"]
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_owner_names_prints_and_shares_the_certificate(graduate, page, context, base_url, scheme):
    page.emulate_media(color_scheme=scheme)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    log_in(context, base_url, graduate)
    page.goto(CERTIFICATE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    assert_accessible(page, f"{scheme} certificate")

    # The name to print.
    page.get_by_label("Name to print on the certificate").fill("  Grace Brewster Murray Hopper ")
    page.get_by_role("button", name="Save the name").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Brewster Murray Hopper")
    expect(page.locator(".messages")).to_contain_text("your certificate now reads")
    assert Certificate.objects.get(code="e2e0c0ffee").learner_name == "Grace Brewster Murray Hopper"

    # A name that cannot be printed is refused beside the field, and nothing changes.
    page.get_by_label("Name to print on the certificate").fill("A" * 120)
    page.get_by_label("Name to print on the certificate").evaluate("field => { field.value += 'B'; }")
    page.get_by_role("button", name="Save the name").click()
    expect(page.locator(".field__errors")).to_contain_text("at most 120 characters")
    assert_accessible(page, f"{scheme} certificate with an error")
    page.goto(CERTIFICATE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Brewster Murray Hopper")

    # Print: the button calls the browser's print; the print leaves out the site around the certificate.
    page.evaluate("() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; }")
    page.get_by_role("button", name="Print or save as PDF").click()
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    expect(page.locator(".certificate")).to_be_visible()
    for chrome in [".site-header", ".site-footer", ".certificate-tools", ".verified"]:
        expect(page.locator(chrome)).to_be_hidden()
    page.emulate_media(media="screen")

    # Share: the public link, copied with one click.
    link = page.get_by_label("Link to share")
    expect(link).to_have_value(f"{base_url}{CERTIFICATE}")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("[data-copy-status]")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}{CERTIFICATE}"


def test_without_javascript_the_certificate_says_how_to_print(graduate, browser, browser_context_args, base_url):
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        log_in(context, base_url, graduate)
        page = context.new_page()
        page.goto(CERTIFICATE)
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
        expect(page.get_by_text("Print command (Ctrl+P")).to_be_visible()
        expect(page.get_by_label("Link to share")).to_have_value(f"{base_url}{CERTIFICATE}")
        page.get_by_label("Name to print on the certificate").fill("G. Hopper")
        page.get_by_role("button", name="Save the name").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("G. Hopper")
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_wrong_code_is_not_a_valid_certificate(site, page, scheme):
    page.emulate_media(color_scheme=scheme)
    response = page.goto("/certificates/e2e0c0ffef/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("This is not a valid Kube Journeys certificate")
    expect(page.get_by_role("heading", name="What to check")).to_be_visible()
    assert_accessible(page, f"{scheme} invalid certificate")
