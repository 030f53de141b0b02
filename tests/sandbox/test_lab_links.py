"""Every check result links to a lesson section that exists (a heading of the lesson, or one of its lab
panels), and every lab has a lesson."""

from pathlib import Path

import pytest

from journeys.models import Lesson
from journeys.sandbox.labs import LABS, evaluate, labs_for_lesson
from journeys.sandbox.snapshot import Snapshot
from journeys.sandbox.sources import FileSource

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
    # A lab panel is a section of its lesson's page too: `lab-<slug>`, listed in the page's table of contents.
    sections = {
        lesson.slug: {entry["id"] for entry in lesson.toc}
        | {f"lab-{other.slug}" for other in labs_for_lesson(lesson.slug)}
        for lesson in Lesson.objects.all()
    }
    for snapshot in snapshots(lab):
        for check in evaluate(lab, snapshot, source="file").checks:
            lesson_slug, _, anchor = check.teaches.partition("#")
            assert anchor in sections[lesson_slug], f"{slug}/{check.id}: #{anchor} is not a section of {lesson_slug}"
