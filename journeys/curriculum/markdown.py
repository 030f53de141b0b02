"""The one place where Markdown becomes HTML.

Lessons are rendered when they are loaded or saved and the result is stored, so a page view never
runs Markdown. The output is sanitized with an allowlist even though authors are trusted: a lesson
is edited in a browser (Django admin), and a stolen admin session must not turn into script on every
learner's page.

Two extensions to plain Markdown exist for lesson authors:

* ``[[slug]]`` / ``[[slug|shown text]]`` marks a glossary term. It renders as a link to the
  glossary with the definition in a tooltip that opens on hover and on keyboard focus (and, with
  static/js/site.js, on a click, a tap or Enter, in place).
* ``[text](lesson:slug)`` / ``[text](lesson:slug#anchor)`` links to another lesson of the same
  journey without hard-coding its URL.

Every table comes in a box of its own that scrolls sideways (``div.table-scroll``): a keyboard user
can focus it and scroll it, and a screen reader names it after the table's column headings.
"""

import html
import re
from dataclasses import dataclass, field
from xml.etree import ElementTree

import markdown
import nh3
from django.urls import reverse
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

# Part of each lesson file's recorded checksum: a change to what Markdown becomes (a new version here)
# makes the next load render every lesson file again, as if each had been edited.
RENDERING_VERSION = "2"

GLOSSARY_REFERENCE = re.compile(r"\[\[([a-z0-9]+(?:-[a-z0-9]+)*)(?:\|([^\]\n]+))?\]\]")
LESSON_LINK = re.compile(r"\]\(lesson:([a-z0-9]+(?:-[a-z0-9]+)*)(?:#([A-Za-z0-9_-]+))?\)")

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
# nh3 drops `class` by default; highlighting, admonitions and glossary tooltips depend on it.
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id"},
    "div": {"role", "tabindex", "aria-label"},
    "a": {"href", "title", "aria-describedby"},
    "span": {"role"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class GlossaryEntry:
    slug: str
    term: str
    definition: str


@dataclass
class Rendered:
    html: str
    toc: list = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True)
class Reference:
    """A glossary term or lesson link found in Markdown source, with its 1-based line."""

    kind: str  # "glossary" or "lesson"
    slug: str
    anchor: str
    line: int


def normalize_source(text):
    """One canonical form for Markdown from files and from admin: LF line ends, no outer blank lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n").rstrip()


def find_references(source):
    """Every glossary term and lesson link in ``source``, so callers can validate them with lines."""
    references = []
    for number, line in enumerate(source.splitlines(), start=1):
        for match in GLOSSARY_REFERENCE.finditer(line):
            references.append(Reference("glossary", match.group(1), "", number))
        for match in LESSON_LINK.finditer(line):
            references.append(Reference("lesson", match.group(1), match.group(2) or "", number))
    return references


def lesson_url(journey_slug, lesson_slug):
    return reverse("journeys:lesson", kwargs={"journey_slug": journey_slug, "lesson_slug": lesson_slug})


def glossary_url(term_slug):
    return f"{reverse('journeys:glossary')}#{term_slug}"


class _GlossaryProcessor(InlineProcessor):
    def __init__(self, pattern, md, glossary):
        super().__init__(pattern, md)
        self.glossary = glossary
        self.count = 0

    def handleMatch(self, m, data):  # noqa: N802 - Markdown's API name
        entry = self.glossary.get(m.group(1))
        shown = m.group(2) or (entry.term if entry else m.group(1))
        if entry is None:
            # Unknown terms are caught by validation; here they degrade to plain text.
            return shown, m.start(0), m.end(0)
        self.count += 1
        tip_id = f"gloss-{entry.slug}-{self.count}"
        wrapper = ElementTree.Element("span", {"class": "gloss"})
        link = ElementTree.SubElement(
            wrapper,
            "a",
            {"href": glossary_url(entry.slug), "class": "gloss-term", "aria-describedby": tip_id},
        )
        link.text = shown
        tip = ElementTree.SubElement(wrapper, "span", {"class": "gloss-tip", "role": "tooltip", "id": tip_id})
        tip_term = ElementTree.SubElement(tip, "strong")
        tip_term.text = entry.term
        tip_term.tail = " " + entry.definition
        return wrapper, m.start(0), m.end(0)


class _LessonLinkProcessor(Treeprocessor):
    def __init__(self, md, journey_slug, known_lessons):
        super().__init__(md)
        self.journey_slug = journey_slug
        self.known_lessons = known_lessons

    def run(self, root):
        for link in root.iter("a"):
            href = link.get("href", "")
            if not href.startswith("lesson:"):
                continue
            slug, _, anchor = href.removeprefix("lesson:").partition("#")
            if self.known_lessons is not None and slug not in self.known_lessons:
                link.attrib.pop("href")
                link.set("class", "broken-link")
                continue
            url = lesson_url(self.journey_slug, slug)
            link.set("href", f"{url}#{anchor}" if anchor else url)


TABLE_NAME_LENGTH = 80


class _TableScrollProcessor(Treeprocessor):
    """Put each table in a focusable, named region that scrolls sideways when the table is too wide."""

    def run(self, root):
        for parent in list(root.iter()):
            for index, child in enumerate(list(parent)):
                if child.tag != "table":
                    continue
                name = _table_name(child)
                box = ElementTree.Element(
                    "div", {"class": "table-scroll", "role": "region", "tabindex": "0", "aria-label": name}
                )
                box.tail, child.tail = child.tail, None
                parent.remove(child)
                box.append(child)
                parent.insert(index, box)


def _cell_text(cell):
    # A glossary term's tooltip is inside the cell, but it is not part of the heading.
    parts = []

    def walk(element):
        if "gloss-tip" in element.get("class", ""):
            return
        parts.append(element.text or "")
        for sub in element:
            walk(sub)
            parts.append(sub.tail or "")

    walk(cell)
    return " ".join("".join(parts).split())


def _table_name(table):
    headings = [_cell_text(cell) for cell in table.iter("th")]
    headings = [heading for heading in headings if heading]
    name = "Table: " + ", ".join(headings) if headings else "Table"
    return name if len(name) <= TABLE_NAME_LENGTH else name[: TABLE_NAME_LENGTH - 1].rstrip(", ") + "…"


class _JourneyExtension(markdown.Extension):
    def __init__(self, journey_slug, glossary, known_lessons):
        super().__init__()
        self.journey_slug = journey_slug
        self.glossary = glossary
        self.known_lessons = known_lessons

    def extendMarkdown(self, md):  # noqa: N802 - Markdown's API name
        # Above the link pattern (160) so `[[x]]` is never read as a reference link.
        md.inlinePatterns.register(_GlossaryProcessor(GLOSSARY_REFERENCE.pattern, md, self.glossary), "glossary", 175)
        md.treeprocessors.register(_LessonLinkProcessor(md, self.journey_slug, self.known_lessons), "lesson_links", 5)
        # After the inline processor (20), so a heading's text is final when the table is named.
        md.treeprocessors.register(_TableScrollProcessor(md), "table_scroll", 4)


def _flatten_toc(tokens):
    flat = []
    for token in tokens:
        flat.append({"id": token["id"], "title": html.unescape(token["name"]), "level": token["level"]})
        flat.extend(_flatten_toc(token["children"]))
    return flat


def sanitize(untrusted_html):
    return nh3.clean(
        untrusted_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def plain_text(rendered_html):
    """Readable text of rendered HTML, for search and summaries."""
    # Tooltips repeat the glossary and permalinks are only "#": neither is lesson text.
    stripped = re.sub(r'<span class="gloss-tip".*?</span>', "", rendered_html, flags=re.S)
    stripped = re.sub(r'<a[^>]*class="headerlink"[^>]*>.*?</a>', "", stripped, flags=re.S)
    text = nh3.clean(stripped, tags=set())
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def render_markdown(source, *, journey_slug="", glossary=None, known_lessons=None):
    """Render lesson Markdown to sanitized HTML plus its table of contents and plain text.

    ``glossary`` maps term slugs to GlossaryEntry; ``known_lessons`` is the set of lesson slugs a
    ``lesson:`` link may point to (None trusts every slug, e.g. when the caller validated them).
    """
    md = markdown.Markdown(
        extensions=[
            "admonition",
            "tables",
            "sane_lists",
            "toc",
            "pymdownx.superfences",
            "pymdownx.highlight",
            _JourneyExtension(journey_slug, glossary or {}, known_lessons),
        ],
        extension_configs={
            "toc": {"permalink": "#", "permalink_title": "Link to this section", "toc_depth": "2-3"},
            "pymdownx.highlight": {"use_pygments": True, "css_class": "highlight", "guess_lang": False},
        },
        output_format="html",
    )
    clean_html = sanitize(md.convert(source))
    return Rendered(html=clean_html, toc=_flatten_toc(md.toc_tokens), text=plain_text(clean_html))
