"""Every check result links to a lesson section that exists, and every lab has a lesson."""

import pytest

from journeys.models import Lesson
from journeys.sandbox.labs import LABS, evaluate
from journeys.sandbox.snapshot import Snapshot


@pytest.mark.parametrize("slug", sorted(LABS))
def test_check_results_link_to_existing_lesson_sections(curriculum, slug):
    lab = LABS[slug]
    report = evaluate(lab, Snapshot("team-a"), source="file")
    assert Lesson.objects.filter(slug=lab.lesson).exists()
    for check in report.checks:
        lesson_slug, _, anchor = check.teaches.partition("#")
        lesson = Lesson.objects.get(slug=lesson_slug)
        assert anchor in {entry["id"] for entry in lesson.toc}, (
            f"{slug}/{check.id}: #{anchor} is not a section of {lesson_slug}"
        )
