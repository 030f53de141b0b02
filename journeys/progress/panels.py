"""A lesson's completion button and progress bars, for the pages that swap them after a change."""

from django.contrib.auth.models import AnonymousUser

from ..curriculum.selectors import journey_outline_for_user
from . import selectors


def lesson_progress_context(learner, lesson, *, completion_oob=False):
    """The completion button and progress bars of a lesson page, for an htmx swap after a change."""
    outline = journey_outline_for_user(user=learner.user or AnonymousUser(), journey=lesson.journey)
    completed = selectors.completed_lesson_ids(learner=learner, journey=lesson.journey)
    progress, module_progress = selectors.outline_progress(outline, completed)
    return {
        "lesson": lesson,
        "journey": lesson.journey,
        "is_complete": lesson.pk in completed,
        "progress": progress,
        "module_progress": module_progress.get(lesson.module.slug),
        "oob": True,
        "completion_oob": completion_oob,
    }
