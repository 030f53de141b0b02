"""The Markdown pipeline: rendering features authors rely on, and sanitizing what they must not do."""

from journeys.curriculum.markdown import GlossaryEntry, find_references, plain_text, render_markdown

GLOSSARY = {"pod": GlossaryEntry("pod", "Pod", "The smallest unit Kubernetes schedules.")}


def render(source, **kwargs):
    return render_markdown(source, journey_slug="j", glossary=GLOSSARY, **kwargs)


def test_script_tags_are_removed():
    html = render("Hello\n\n<script>alert('x')</script>\n\n<p>ok<script src=//evil></script></p>").html
    assert "<script" not in html
    assert "alert(" not in html


def test_event_handler_attributes_are_removed():
    html = render('<img src="x.png" onerror="alert(1)">\n\n<a href="/x" onclick="steal()">link</a>').html
    assert "onerror" not in html
    assert "onclick" not in html
    assert "steal" not in html


def test_javascript_links_are_removed():
    html = render("[click](javascript:alert(1)) and <a href='JaVaScRiPt:alert(2)'>raw</a>").html
    assert "javascript" not in html.lower()
    assert "click" in html


def test_code_highlighting_survives_sanitizing():
    html = render("```yaml\napiVersion: apps/v1\nkind: StatefulSet\n```").html
    assert '<div class="highlight">' in html
    assert 'class="nt"' in html  # Pygments token classes are kept for the colours
    assert "StatefulSet" in html


def test_admonitions_keep_their_kind():
    html = render('!!! warning "Careful"\n    Deleting the Node object is final.').html
    assert 'class="admonition warning"' in html
    assert "Careful" in html


def test_headings_get_anchors_and_a_table_of_contents():
    rendered = render("## Sticky identity\n\ntext\n\n### Stable storage\n\nmore")
    assert 'id="sticky-identity"' in rendered.html
    assert 'href="#sticky-identity"' in rendered.html
    assert rendered.toc == [
        {"id": "sticky-identity", "title": "Sticky identity", "level": 2},
        {"id": "stable-storage", "title": "Stable storage", "level": 3},
    ]


def test_glossary_terms_render_as_links_with_accessible_tooltips():
    html = render("A [[pod]] runs; two [[pod|Pods]] run.").html
    assert html.count('class="gloss-term"') == 2
    assert 'href="/glossary/#pod"' in html
    assert 'role="tooltip"' in html
    assert 'aria-describedby="gloss-pod-1"' in html and 'id="gloss-pod-1"' in html
    assert 'aria-describedby="gloss-pod-2"' in html and 'id="gloss-pod-2"' in html
    assert ">Pods</a>" in html
    assert "The smallest unit Kubernetes schedules." in html


def test_unknown_glossary_term_degrades_to_text():
    html = render("A [[nope|mystery]] thing").html
    assert "mystery" in html
    assert "gloss-term" not in html


def test_lesson_links_resolve_to_lesson_urls():
    html = render("See [jobs](lesson:jobs) and [that part](lesson:jobs#patterns).").html
    assert 'href="/journeys/j/jobs/"' in html
    assert 'href="/journeys/j/jobs/#patterns"' in html


def test_lesson_link_to_unknown_lesson_loses_its_href():
    html = render("See [jobs](lesson:nope)", known_lessons={"jobs"}).html
    assert "lesson:" not in html
    assert "broken-link" in html


def test_find_references_reports_lines():
    source = "intro\n[[pod]] here\n\nsee [x](lesson:jobs#a) and [[node|Nodes]]"
    found = [(ref.kind, ref.slug, ref.anchor, ref.line) for ref in find_references(source)]
    assert found == [("glossary", "pod", "", 2), ("glossary", "node", "", 4), ("lesson", "jobs", "a", 4)]


def test_plain_text_leaves_out_tooltips_and_permalinks():
    rendered = render("## Title\n\nA [[pod]] runs.")
    assert plain_text(rendered.html) == "Title A Pod runs."
    assert rendered.text == "Title A Pod runs."


def test_a_table_sits_in_a_focusable_region_named_after_its_headings():
    html = render("Intro\n\n| Kind | What a [[pod]] does |\n|---|---|\n| Job | `runs once` |\n\nAfter").html
    assert html.count('<div aria-label="Table: Kind, What a Pod does" class="table-scroll" role="region"') == 1
    assert 'tabindex="0"><table>' in html and "</table></div>\n<p>After</p>" in html
    assert "smallest unit" not in html.split('class="table-scroll"')[0]  # the tooltip is not in the name


def test_a_table_without_headings_is_still_named():
    html = render("<table><tr><td>a</td></tr></table>\n\n| a |\n|---|\n| b |").html
    assert 'aria-label="Table: a"' in html


def test_a_long_table_name_is_cut_short():
    columns = " | ".join(f"Column number {index}" for index in range(12))
    html = render(f"| {columns} |\n|{'---|' * 12}\n|{' x |' * 12}").html
    name = html.split('aria-label="')[1].split('"')[0]
    assert name.startswith("Table: Column number 0, Column number 1") and name.endswith("…") and len(name) <= 80
