"""What the home page shows of each journey: its modules and lessons, and where this learner goes next.

Built from the cached outlines and one read of the learner's completed lessons, so the page costs the
same number of queries however many lessons a journey has.
"""

from dataclasses import dataclass

from django.urls import reverse

from ..sandbox.labs import labs_for_lesson


@dataclass
class Action:
    label: str
    url: str


@dataclass
class LandingJourney:
    outline: object
    lab_lessons: set  # slugs of the lessons that end with a lab
    done: int
    action: Action

    @property
    def journey(self):
        return self.outline.journey

    @property
    def lessons(self):
        return len(self.outline.lessons)

    @property
    def labs(self):
        return len(self.lab_lessons)


def next_action(outline, completed_ids):
    """Start at the first lesson; a returning learner goes on after the last lesson they completed
    (or back to one they skipped); once every lesson is complete, to their dashboard."""
    lessons = outline.lessons
    if not any(lesson.id in completed_ids for lesson in lessons):
        return Action("Start the journey", lessons[0].url)
    last_done = max(index for index, lesson in enumerate(lessons) if lesson.id in completed_ids)
    ahead = [lesson for lesson in lessons[last_done + 1 :] if lesson.id not in completed_ids]
    skipped = [lesson for lesson in lessons[:last_done] if lesson.id not in completed_ids]
    following = (ahead or skipped or [None])[0]
    if following is None:
        return Action("See your progress and certificate", reverse("journeys:dashboard"))
    return Action(f"Continue where you left off: {following.title}", following.url)


def landing_journeys(outlines, completed_ids):
    """One LandingJourney per outline that has lessons, in the order given."""
    found = []
    for outline in outlines:
        lessons = outline.lessons
        if not lessons:
            continue
        found.append(
            LandingJourney(
                outline=outline,
                lab_lessons={lesson.slug for lesson in lessons if labs_for_lesson(lesson.slug)},
                done=sum(lesson.id in completed_ids for lesson in lessons),
                action=next_action(outline, completed_ids),
            )
        )
    return found
