"""Reading a lesson on a phone and a desktop, in the light and the dark theme: the header, the first
screen, wide tables, glossary definitions, progress bars and the journey's outline."""

import pytest
from playwright.sync_api import expect

from journeys.learners import Learner
from journeys.models import Lesson
from journeys.progress import services
from tests import factories

from .support import JOURNEY, axe_violations, horizontal_overflow, lesson_url, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
SCHEMES = ["light", "dark"]


@pytest.fixture
def open_page(browser, browser_context_args):
    """A page at ``size`` in ``scheme`` (touch on the phone), closed after the test."""
    contexts = []

    def opener(size, scheme, **options):
        phone = size == "phone"
        context = browser.new_context(
            **{**browser_context_args, "viewport": SIZES[size]},
            color_scheme=scheme,
            is_mobile=phone,
            has_touch=phone,
            **options,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield opener
    for context in contexts:
        context.close()


def assert_no_violations(page, label, within=None):
    violations = axe_violations(page, label, within)
    assert not violations, "axe found WCAG 2.1 A/AA violations:\n" + "\n".join(violations)


def box(locator):
    return locator.evaluate(
        "el => { const b = el.getBoundingClientRect(); return {top: b.top, bottom: b.bottom, left: b.left,"
        " right: b.right, height: b.height, line: parseFloat(getComputedStyle(el).lineHeight)}; }"
    )


# --- 1. The header and the first screen ---


@pytest.mark.parametrize("scheme", SCHEMES)
def test_on_a_phone_the_lesson_starts_on_the_first_screen(site, open_page, scheme):
    page = open_page("phone", scheme)
    page.goto(lesson_url("statefulsets"))
    height = PHONE["height"]

    assert box(page.locator(".site-header"))["height"] <= 0.15 * height
    title = box(page.get_by_role("heading", level=1, name="StatefulSets"))
    assert title["bottom"] <= height
    first = box(page.locator(".prose > p").first)
    assert first["top"] + 2 * first["line"] <= height, "at least two lines of the lesson's text on the first screen"
    crumbs = box(page.locator(".breadcrumb ol"))
    assert crumbs["height"] < 2 * crumbs["line"], "the breadcrumb keeps to one line"
    assert horizontal_overflow(page)["excess"] <= 0
    if scheme == "light":
        screenshot(page, "lesson-phone")

    # The menu opens from its button, shows every way on, and Escape closes it again.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(nav.get_by_role("link", name="Glossary")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search lessons")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert_no_violations(page, f"{scheme} phone lesson, menu open")
    nav.get_by_role("link", name="Glossary").focus()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Menu"
    page.keyboard.press("Enter")  # the keyboard opens it too, from the button that kept the focus
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()

    # The contents of the page and the lesson's goals are folded, and open on a tap.
    contents = page.get_by_role("navigation", name="On this page")
    expect(contents.get_by_role("link", name="Stable storage")).to_be_hidden()
    contents.locator("summary").click()
    expect(contents.get_by_role("link", name="Stable storage")).to_be_visible()
    page.get_by_text("In this lesson you will…").click()
    expect(page.locator(".objectives li").first).to_be_visible()
    assert_no_violations(page, f"{scheme} phone lesson, contents open")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_on_a_desktop_the_menu_and_contents_are_always_open(site, open_page, scheme):
    page = open_page("desktop", scheme)
    page.goto(lesson_url("statefulsets"))
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("heading", name="On this page")).to_be_visible()
    expect(page.locator(".objectives li").first).to_be_visible()
    # Unfolded by style, the links are still in the tab order.
    page.locator("#main").focus()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('.site-menu') !== null")
    page.locator(".brand").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Journeys"
    assert_no_violations(page, f"{scheme} desktop lesson")


def test_the_menu_opens_without_javascript(site, open_page):
    page = open_page("phone", "light", java_script_enabled=False)
    page.goto(lesson_url("statefulsets"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    nav.get_by_role("link", name="Glossary").click()
    expect(page).to_have_url(f"{site.url}/glossary/")


# --- 2. Wide tables ---


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_wide_table_scrolls_in_its_own_region_on_a_phone(site, open_page, scheme):
    page = open_page("phone", scheme)
    page.goto(lesson_url("beyond-deployments"))
    region = page.get_by_role("region", name="Table: Controller, Lifetime")
    expect(region).to_have_count(1)
    expect(region).to_have_attribute("tabindex", "0")
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    hint = page.locator(f"#{region.get_attribute('aria-describedby')}")
    expect(hint).to_be_visible()
    expect(hint).to_contain_text("scroll it sideways")
    assert horizontal_overflow(page)["excess"] <= 0, "the page itself does not scroll sideways"

    # The keyboard scrolls it: focus the region, then the arrow keys.
    region.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("el => el.scrollLeft > 0", arg=region.element_handle())
    assert_no_violations(page, f"{scheme} phone lesson with a wide table")


def test_a_table_that_fits_shows_no_hint_and_no_tab_stop(site, open_page):
    page = open_page("desktop", "light")
    page.goto(lesson_url("beyond-deployments"))
    region = page.get_by_role("region", name="Table: Controller, Lifetime")
    assert region.evaluate("el => el.scrollWidth <= el.clientWidth")
    expect(region).not_to_have_attribute("tabindex", "0")
    expect(page.locator(".table-scroll__hint").first).to_be_hidden()


# --- 3. Glossary terms ---

EDGE_PARAGRAPH = """([term, side]) => {
    // The term alone on a line across the window, at its left or right edge, half way down.
    let line = document.getElementById("edge-line");
    if (!line) {
        line = document.createElement("p");
        line.id = "edge-line";
        line.style.cssText = "position: fixed; z-index: 30; left: 0; right: 0; top: 40%; margin: 0; padding: 0 2px";
        document.querySelector(".prose").appendChild(line);
        line.appendChild(term);
    }
    line.style.textAlign = side;
}"""


def inside_window(page, locator):
    bounds = box(locator)
    width, height = page.evaluate("[document.documentElement.clientWidth, document.documentElement.clientHeight]")
    return bounds["left"] >= 0 and bounds["top"] >= 0 and bounds["right"] <= width and bounds["bottom"] <= height


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_definition_opens_in_place_and_stays_in_the_window(site, open_page, size, scheme):
    page = open_page(size, scheme)
    address = lesson_url("statefulsets")
    page.goto(address)
    page.evaluate(EDGE_PARAGRAPH, [page.locator(".prose .gloss").first.element_handle(), "left"])
    term = page.locator("#edge-line .gloss")  # the locator of the moved term, not of whichever is first now
    link = term.locator(".gloss-term")
    tip = term.locator(".gloss-tip")
    expect(link).to_have_attribute("aria-expanded", "false")
    assert link.get_attribute("aria-controls") == link.get_attribute("aria-describedby") == tip.get_attribute("id")

    for side in ["left", "right"]:
        page.evaluate(EDGE_PARAGRAPH, [term.element_handle(), side])
        if size == "phone":
            link.tap()
        else:
            link.click()
        expect(tip).to_be_visible()
        expect(link).to_have_attribute("aria-expanded", "true")
        assert page.url.endswith(address), "the tap did not leave the lesson"
        assert inside_window(page, tip), f"the definition of a term at the {side} edge runs off the window"
        assert horizontal_overflow(page)["excess"] <= 0
        page.keyboard.press("Escape")
        expect(tip).to_be_hidden()
        expect(link).to_have_attribute("aria-expanded", "false")

    # From the keyboard: Enter opens it in place too, and again closes it.
    page.goto(address)
    link = page.locator(".prose .gloss-term").first
    tip = page.locator(f"#{link.get_attribute('aria-describedby')}")
    link.focus()
    page.keyboard.press("Enter")
    expect(link).to_have_attribute("aria-expanded", "true")
    expect(tip).to_be_visible()
    assert page.url.endswith(address)
    assert_no_violations(page, f"{scheme} {size} lesson with a definition open")
    page.keyboard.press("Enter")
    expect(tip).to_be_hidden()


def test_a_definition_near_the_bottom_of_the_window_opens_above_the_term(site, open_page):
    page = open_page("desktop", "light")
    page.goto(lesson_url("statefulsets"))
    moved = page.locator(".prose .gloss").first.element_handle()
    page.evaluate(EDGE_PARAGRAPH.replace("top: 40%", "bottom: 2px"), [moved, "right"])
    term = page.locator("#edge-line .gloss")
    term.locator(".gloss-term").click()
    tip = term.locator(".gloss-tip")
    expect(tip).to_be_visible()
    assert inside_window(page, tip)
    assert box(tip)["bottom"] <= box(term.locator(".gloss-term"))["top"]


def test_without_javascript_a_term_still_leads_to_the_glossary(site, open_page):
    page = open_page("phone", "light", java_script_enabled=False)
    page.goto(lesson_url("statefulsets"))
    link = page.locator(".prose .gloss-term").first
    slug = link.get_attribute("href").split("#")[1]
    link.click()
    expect(page).to_have_url(f"{site.url}/glossary/#{slug}")


# --- 4. Progress bars ---

TRACK = """el => {
    const style = getComputedStyle(el);
    const page = getComputedStyle(document.body).backgroundColor;
    return {background: style.backgroundColor, page, border: parseFloat(style.borderTopWidth),
            height: el.getBoundingClientRect().height, width: el.getBoundingClientRect().width};
}"""


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_an_empty_progress_bar_shows_its_track_and_words(site, open_page, size, scheme):
    page = open_page(size, scheme)
    lessons = Lesson.objects.count()
    page.goto(JOURNEY)
    bars = page.locator("progress")
    assert bars.count() == 1 + page.locator(".module").count()
    for index in range(bars.count()):
        track = bars.nth(index).evaluate(TRACK)
        assert track["background"] not in ("rgba(0, 0, 0, 0)", "transparent", track["page"]), track
        assert track["border"] >= 1 and track["height"] >= 8 and track["width"] >= 80, track
    expect(page.get_by_text(f"Your progress: 0 of {lessons} lessons complete")).to_be_visible()
    assert_no_violations(page, f"{scheme} {size} journey")

    # One line on top of a lesson: one bar, the journey and the module in words.
    page.goto(lesson_url("statefulsets"))
    bar = page.locator(".lesson-header progress")
    expect(bar).to_have_count(1)
    expect(bar).to_have_accessible_name(f"0 of {lessons} lessons complete · 0 of 5 in this module")
    expect(page.locator(".lesson-header .progress__label")).to_be_visible()


# --- 5. The journey's outline beside a lesson ---


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_outline_shows_labs_quizzes_what_is_complete_and_where_you_are(site, open_page, base_url, size, scheme):
    user = factories.UserFactory()
    services.lesson_complete(learner=Learner(user=user), lesson_id=Lesson.objects.get(slug="beyond-deployments").pk)
    page = open_page(size, scheme)
    log_in(page.context, base_url, user)
    page.goto(lesson_url("statefulsets"))
    page.get_by_text("All lessons in this journey").click()
    outline = page.get_by_role("navigation", name="All lessons in this journey")

    done = outline.locator("li", has=page.get_by_role("link", name="Beyond Deployments", exact=True))
    expect(done.locator(".done-mark")).to_be_visible()
    expect(done.locator(".done-mark")).to_contain_text("(complete)")
    current = outline.locator("[aria-current='page']")
    expect(current).to_have_text("StatefulSets")
    style = current.evaluate(
        "el => ({weight: getComputedStyle(el).fontWeight,"
        " bar: parseFloat(getComputedStyle(el.closest('li')).borderLeftWidth)})"
    )
    assert int(style["weight"]) >= 700 and style["bar"] >= 2, style
    expect(outline.get_by_role("link", name="Lab: A StatefulSet with stable names and storage")).to_be_visible()
    expect(outline).not_to_contain_text("stateful-web")
    expect(outline.get_by_role("link", name="Final assessment")).to_be_visible()
    assert_no_violations(page, f"{scheme} {size} lesson with the outline open")

    # Passing from here to the quiz: the outline's entry goes to it; completing marks the lesson at once.
    outline.locator(".outline__current").get_by_role("link", name="Quiz").click()
    expect(page.locator("#quiz")).to_be_in_viewport()
    page.get_by_role("button", name="Mark this lesson as complete").click()
    expect(page.locator("#outline-current-mark .done-mark")).to_have_count(1)
    expect(page.locator(".lesson-header .progress__label")).to_contain_text("2 of")
