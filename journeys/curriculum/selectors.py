"""Reads of the curriculum for the pages: journeys, their outlines, lessons, the glossary.

Each returns everything its page needs in a fixed number of queries.
"""

import unicodedata
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.http import Http404
from django.urls import reverse

from ..models import GlossaryTerm, Journey, Lesson, Quiz, can_preview_drafts
from ..pages.content_version import cached
from .markdown import lesson_url


@dataclass
class OutlineLesson:
    id: int
    slug: str
    title: str
    summary: str
    minutes: int
    is_published: bool
    url: str
    # Whether the lesson ends with a quiz this audience may see (published, for learners).
    has_quiz: bool = False


@dataclass
class OutlineModule:
    slug: str
    title: str
    summary: str
    lessons: list

    @property
    def minutes(self):
        return sum(lesson.minutes for lesson in self.lessons)


@dataclass
class JourneyOutline:
    journey: Journey
    modules: list
    # The final assessment's address, when this audience may see one; "" otherwise.
    final_assessment_url: str = ""

    @property
    def lessons(self):
        return [lesson for module in self.modules for lesson in module.lessons]

    @property
    def minutes(self):
        return sum(module.minutes for module in self.modules)


def journey_list_for_user(*, user):
    visible_lessons = Q() if can_preview_drafts(user) else Q(lessons__is_published=True)
    return (
        Journey.objects.visible_to(user)
        .annotate(
            lesson_count=Count("lessons", filter=visible_lessons),
            total_minutes=Sum("lessons__minutes", filter=visible_lessons),
        )
        .order_by("order", "title")
    )


def journey_for_user(*, user, journey_slug):
    journey = Journey.objects.visible_to(user).filter(slug=journey_slug).first()
    if journey is None:
        raise Http404("No such journey.")
    return journey


def journey_outline_for_user(*, user, journey):
    """The journey's modules and the lessons this user may see (cached per content version)."""
    audience = "staff" if can_preview_drafts(user) else "public"
    return cached(f"outline:{journey.pk}:{audience}", lambda: _journey_outline(user=user, journey=journey))


def _journey_outline(*, user, journey):
    # Which lessons have a quiz, and whether the journey has a final assessment, ride along in the
    # two queries the outline makes anyway, so a page listing them costs nothing more.
    quizzes = Quiz.objects.visible_to(user)
    lessons = (
        Lesson.objects.visible_to(user)
        .filter(journey=journey)
        .in_outline_order()
        .only("slug", "title", "summary", "minutes", "is_published", "module_id")
        .annotate(has_quiz=Exists(quizzes.filter(lesson=OuterRef("pk"))))
    )
    by_module = {}
    for lesson in lessons:
        by_module.setdefault(lesson.module_id, []).append(
            OutlineLesson(
                id=lesson.id,
                slug=lesson.slug,
                title=lesson.title,
                summary=lesson.summary,
                minutes=lesson.minutes,
                is_published=lesson.is_published,
                url=lesson_url(journey.slug, lesson.slug),
                has_quiz=lesson.has_quiz,
            )
        )
    module_rows = list(
        journey.modules.order_by("order", "id").annotate(
            final_assessment=Exists(quizzes.filter(journey=OuterRef("journey"), is_final=True))
        )
    )
    modules = [
        OutlineModule(
            slug=module.slug, title=module.title, summary=module.summary, lessons=by_module.get(module.id, [])
        )
        for module in module_rows
    ]
    final_url = ""
    if any(module.final_assessment for module in module_rows):
        final_url = reverse("journeys:assessment", kwargs={"journey_slug": journey.slug})
    return JourneyOutline(
        journey=journey, modules=[module for module in modules if module.lessons], final_assessment_url=final_url
    )


def lesson_for_user(*, user, journey_slug, lesson_slug):
    lesson = (
        Lesson.objects.visible_to(user)
        .select_related("module", "journey")
        # The page shows the stored HTML; the Markdown source and search fields are large and unused here.
        .defer(*Lesson.SEARCH_FIELDS, "body", "journey__description")
        .filter(journey__slug=journey_slug, slug=lesson_slug)
        .first()
    )
    if lesson is None:
        raise Http404("No such lesson.")
    # The module belongs to the same journey; sharing the loaded row saves a query for its URL.
    lesson.module.journey = lesson.journey
    return lesson


def lesson_neighbours(outline, lesson_slug):
    """(previous, next) OutlineLesson around ``lesson_slug`` in reading order."""
    lessons = outline.lessons
    for index, lesson in enumerate(lessons):
        if lesson.slug == lesson_slug:
            previous = lessons[index - 1] if index > 0 else None
            following = lessons[index + 1] if index + 1 < len(lessons) else None
            return previous, following
    return None, None


@dataclass
class GlossaryLetter:
    """One entry of the glossary's A to Z index: a letter, its anchor and its terms (none: shown disabled)."""

    letter: str
    anchor: str
    terms: list


GLOSSARY_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
OTHER_INITIAL = "#"


def glossary_sort_key(term):
    """Dictionary order: case and accents do not count ("kubeconfig" comes between "Job" and "Label")."""
    folded = unicodedata.normalize("NFKD", term.casefold())
    return ("".join(char for char in folded if not unicodedata.combining(char)), term)


def glossary_initial(term):
    """The index letter a term is filed under: its first letter without accent, or # for anything else."""
    first = glossary_sort_key(term.strip())[0][:1].upper()
    return first if first in GLOSSARY_LETTERS else OTHER_INITIAL


def glossary_terms():
    """Every glossary term in dictionary order (sorted here, not by the database, whose collation varies)."""
    return sorted(GlossaryTerm.objects.all(), key=lambda entry: glossary_sort_key(entry.term))


def glossary_index(terms):
    """The A to Z index of ``terms`` (sorted): every letter, with its terms; # last when a term starts otherwise."""
    by_letter = {}
    for term in terms:
        by_letter.setdefault(glossary_initial(term.term), []).append(term)
    letters = [
        GlossaryLetter(letter, f"letter-{letter.lower()}", by_letter.get(letter, [])) for letter in GLOSSARY_LETTERS
    ]
    if OTHER_INITIAL in by_letter:
        letters.append(GlossaryLetter(OTHER_INITIAL, "letter-other", by_letter[OTHER_INITIAL]))
    return letters
