"""Search as a learner meets it: the header's box, a typo corrected, passages with the words marked."""

import pytest
from playwright.sync_api import expect

from .support import axe_violations, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATEFULSETS = "/journeys/intermediate-app-developer/statefulsets/"


def test_a_typo_in_the_header_search_box_still_finds_the_lesson(site, page):
    page.goto("/")
    box = page.locator(".site-header").get_by_role("searchbox", name="Search lessons")
    box.fill("statfulset")
    box.press("Enter")
    page.wait_for_url("**/search/?q=statfulset")

    results = page.locator("#search-results")
    expect(results).to_contain_text("No lesson matches “statfulset”")
    suggestion = results.get_by_role("link", name="statefulset", exact=True)
    expect(suggestion).to_have_attribute("href", "/search/?q=statefulset")
    first = results.locator(".search-results > li").first
    expect(first.get_by_role("link").first).to_have_attribute("href", STATEFULSETS)
    expect(first.locator(".search-passage mark").first).to_have_text("StatefulSets")
    expect(results.locator(".search-glossary")).to_contain_text("StatefulSet")
    screenshot(page, "search-typo")

    suggestion.click()
    page.wait_for_url("**/search/?q=statefulset")
    expect(page.locator("#search-results")).not_to_contain_text("Did you mean")
    expect(page.locator("#search-results .search-results > li").first.get_by_role("link").first).to_have_attribute(
        "href", STATEFULSETS
    )


def test_typing_on_the_search_page_shows_passages_as_you_type(site, page):
    page.goto("/search/")
    page.locator("#page-search-q").press_sequentially("split-brain", delay=20)
    passage = page.locator("#search-results .search-passage").first
    expect(passage).to_contain_text("split-brain")
    expect(passage.locator("mark").first).to_have_text("split", ignore_case=True)
    assert page.url.endswith("/search/?q=split-brain")  # the address follows, so Back and sharing work
    # A query made of tsquery and SQL syntax is just words to the learner's search.
    page.locator("#page-search-q").fill("statefulset & | ! : * ( ) '")
    expect(page.locator("#search-results .search-results > li").first.get_by_role("link").first).to_have_attribute(
        "href", STATEFULSETS
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_search_pages_have_no_wcag_violations(site, page, scheme):
    page.emulate_media(color_scheme=scheme)
    violations = []
    for query in ["statfulset", "the", "zzqqxx"]:
        page.goto(f"/search/?q={query}")
        violations += axe_violations(page, f"{scheme} search {query}")
    assert not violations, "\n".join(violations)
