"""Each lab is described once, from its real checks, and no lesson prints its finished answer.

A lab's description is its task (``journeys/sandbox/tasks/<slug>.md``), the list of what will be checked
(each check's title and what it looks for), the broken manifest a break-and-fix lab starts from, and the
reference solution behind "Show a reference solution". The lesson page shows it once, in the lab panel.
"""

import html
import re
from pathlib import Path

import pytest
from django.urls import reverse

from journeys.models import Lesson
from journeys.sandbox import texts as lab_texts
from journeys.sandbox.labs import LABS, evaluate, labs_for_lesson
from journeys.sandbox.snapshot import Snapshot
from journeys.sandbox.sources import FileSource
from tests.manifests import JOURNEY, as_paste, fenced_blocks

from .test_lab_checks import NEEDS_A_CLUSTER

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LESSONS_WITH_LABS = sorted({lab.lesson for lab in LABS.values()})


def check_id(check):
    return check.__name__.replace("_", "-")


def every_snapshot(lab):
    """What a lab's checks may meet: nothing, every fixture, the reference solution and the starting manifest."""
    yield "empty namespace", Snapshot("team-a")
    paths = sorted((FIXTURES / lab.slug).glob("*.yaml"))
    paths += [path for path in (lab.solution_path, lab.starting_path) if path and path.suffix == ".yaml"]
    for path in paths:
        yield path.name, FileSource(text=path.read_text()).snapshot(lab.kinds, namespace="team-a")


@pytest.mark.parametrize("slug", sorted(LABS))
def test_every_check_says_what_it_looks_for(slug):
    lab = LABS[slug]
    ids = [check_id(check) for check in lab.checks]
    assert len(ids) == len(set(ids)), f"{slug}: two checks share an id"
    for check, (described_id, title, looks_for) in zip(lab.checks, lab.checked, strict=True):
        assert described_id == check_id(check), f"{slug}: {check.__name__} is described as {described_id}"
        assert title.strip() and len(looks_for) >= 10, f"{slug}/{described_id} says too little about itself"


@pytest.mark.parametrize("slug", sorted(LABS))
def test_reports_name_the_checks_as_the_description_does(slug):
    """Whatever a namespace holds, a report lists the described checks, in order, under the described titles."""
    lab = LABS[slug]
    described = [(check_id, title) for check_id, title, _ in lab.checked]
    for name, snapshot in every_snapshot(lab):
        reported = [(check.id, check.title) for check in evaluate(lab, snapshot, source="file").checks]
        assert reported == described, f"{slug}, {name}"


def lab_panel(page, lab):
    start = page.index(f'<section id="lab-{lab.slug}"')
    return page[start : page.index("</section>", page.index('class="lab__form"', start))]


@pytest.mark.parametrize("lesson_slug", LESSONS_WITH_LABS)
def test_the_lesson_page_shows_each_lab_once_with_exactly_its_checks(client, curriculum, lesson_slug):
    lesson = Lesson.objects.get(slug=lesson_slug)
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert not re.search(r"^## Lab\b", lesson.body, re.M), "the lesson body describes a lab the panel describes too"
    for lab in labs_for_lesson(lesson_slug):
        assert page.count(f'<section id="lab-{lab.slug}"') == 1
        toc = page[page.index('<nav class="toc"') : page.index("</nav>", page.index('<nav class="toc"'))]
        assert toc.count(f'href="#lab-{lab.slug}"') == 1, "the lab is missing from the table of contents"
        panel = lab_panel(page, lab)
        listed = re.findall(r'<li data-check="([^"]+)"><strong>([^<]*)</strong>', panel)
        assert [(check_id, html.unescape(title)) for check_id, title in listed] == [
            (check_id, title) for check_id, title, _ in lab.checked
        ]
        assert page.count(lab_texts.task_html(lab, lesson.journey.slug)) == 1
        assert panel.count("Show a reference solution") == 1
        solution = panel[panel.index('class="lab__solution"') :]
        assert 'class="highlight"' in solution, "the reference solution is not highlighted like the lesson's code"
        if lab.fix:
            assert reverse("journeys:lab_starting_manifest", args=[lab.slug]) in panel
            assert "Show the starting manifest" in panel
        else:
            assert "Show the starting manifest" not in panel


@pytest.mark.parametrize("slug", sorted(LABS))
def test_every_task_renders_as_written(slug):
    lab = LABS[slug]
    source = lab.task_path.read_text(encoding="utf-8")
    # Glossary terms need the database; a task is rendered without it.
    assert "[[" not in source, f"{slug}: glossary markers are not available in a lab task"
    rendered = lab_texts.task_html(lab, "intermediate-app-developer")
    assert "<ol>" in rendered and "broken-link" not in rendered
    # A numbered step right after an indented block, without a blank line, is swallowed into that block.
    assert not re.search(r"\n\d+\. ", re.sub(r"<pre>.*?</pre>", "", rendered, flags=re.S)), (
        f"{slug}: a numbered step was read as part of the text before it (add a blank line)"
    )


def lesson_objects(lesson_slug):
    """Every Kubernetes object a lesson and its labs' tasks show, as one namespace."""
    [path] = JOURNEY.glob(f"[0-9][0-9]-{lesson_slug}.md")
    paths = [path] + [lab.task_path for lab in labs_for_lesson(lesson_slug)]
    return [document for source in paths for block in fenced_blocks(source) for document in block.api_objects()]


# Helm is recognised by the labels and annotations it puts on what it installs (the portal never reads the
# release's Secret), and the lesson has to show those marks to teach them.
SHOWS_WHAT_IS_CHECKED = {"helm-release"}


@pytest.mark.parametrize("slug", sorted(set(LABS) - SHOWS_WHAT_IS_CHECKED))
def test_no_lesson_prints_a_finished_answer(slug):
    """Everything the lesson and the task show, applied together, still fails a check a file could pass."""
    lab = LABS[slug]
    snapshot = FileSource(text=as_paste(lesson_objects(lab.lesson))).snapshot(lab.kinds, namespace="team-a")
    report = evaluate(lab, snapshot, source="file")
    failing = {check.id for check in report.checks if check.status != "pass"}
    assert failing - NEEDS_A_CLUSTER.get(slug, set()), f"{slug}: the lesson's own manifests pass the lab"


@pytest.mark.django_db
@pytest.mark.parametrize("slug", sorted(slug for slug, lab in LABS.items() if lab.fix))
def test_the_starting_manifest_downloads_as_a_file(client, curriculum, slug):
    lab = LABS[slug]
    response = client.get(reverse("journeys:lab_starting_manifest", args=[slug]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{slug}.yaml"'
    assert response.content.decode() == lab.starting_path.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_a_lab_without_a_starting_manifest_has_nothing_to_download(client, curriculum):
    assert client.get(reverse("journeys:lab_starting_manifest", args=["nightly-backup"])).status_code == 404
    assert client.get(reverse("journeys:lab_starting_manifest", args=["no-such-lab"])).status_code == 404
