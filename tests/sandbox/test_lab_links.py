"""Every check result links to a lesson section that exists, every lab has a lesson, and the
manifest a lesson's lab shows is the reference solution the lab panel reveals."""

import re
from pathlib import Path

import pytest
import yaml

from journeys.models import Lesson
from journeys.sandbox.labs import LABS, evaluate
from journeys.sandbox.snapshot import Snapshot
from journeys.sandbox.sources import FileSource

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "journeys" / "content"
SOLUTIONS = ROOT / "journeys" / "sandbox" / "solutions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def snapshots(lab):
    """An empty namespace and every fixture: a check links to different sections as it finds more."""
    yield Snapshot("team-a")
    for path in sorted((FIXTURES / lab.slug).glob("*.yaml")):
        yield FileSource(text=path.read_text()).snapshot(lab.kinds)


@pytest.mark.parametrize("slug", sorted(LABS))
def test_check_results_link_to_existing_lesson_sections(curriculum, slug):
    lab = LABS[slug]
    assert Lesson.objects.filter(slug=lab.lesson).exists()
    sections = {lesson.slug: {entry["id"] for entry in lesson.toc} for lesson in Lesson.objects.all()}
    for snapshot in snapshots(lab):
        for check in evaluate(lab, snapshot, source="file").checks:
            lesson_slug, _, anchor = check.teaches.partition("#")
            assert anchor in sections[lesson_slug], f"{slug}/{check.id}: #{anchor} is not a section of {lesson_slug}"


def lab_section(lab):
    [path] = CONTENT.glob(f"*/[0-9][0-9]-{lab.lesson}.md")
    text = path.read_text()
    start = text.index(f"## Lab: {lab.slug}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def yaml_documents(text):
    return [document for document in yaml.safe_load_all(text) if document is not None]


@pytest.mark.parametrize("slug", sorted(LABS))
def test_the_lessons_reference_manifest_is_the_reference_solution(slug):
    """What the lesson shows and what "Show a reference solution" reveals must be one answer, not two."""
    lab = LABS[slug]
    blocks = re.findall(r"```yaml\n(.*?)```", lab_section(lab), re.S)
    shown = [document for block in blocks for document in yaml_documents(block)]
    solution = (SOLUTIONS / lab.solution_file).read_text()
    if lab.solution_file.endswith(".sh"):
        # The script writes its values file with a here-document; the lesson shows that file.
        revealed = [
            document
            for body in re.findall(r"<<'EOF'\n(.*?)\nEOF\n", solution, re.S)
            for document in yaml_documents(body)
        ]
    else:
        revealed = yaml_documents(solution)
    assert revealed, slug
    assert shown == revealed
