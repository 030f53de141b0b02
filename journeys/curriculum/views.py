"""The curriculum's pages: journeys, a journey's outline, a lesson, the glossary, search.

Thin views: pick the selectors, render the page (or, for htmx requests, one partial of it).
"""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.unstorable import UNSTORABLE

from ..learners import learner_for
from ..pages import Page, cached_page
from ..progress import selectors as progress_selectors
from ..progress.panels import lesson_reading
from ..quizzes.panels import lesson_quiz_context
from ..sandbox.labs import labs_by_lesson
from ..sandbox.panels import lab_panels_context
from . import selectors
from .landing import landing_journeys
from .search import search_for_user


@require_GET
def home(request):
    outlines = [
        selectors.journey_outline_for_user(user=request.user, journey=journey)
        for journey in selectors.journey_list_for_user(user=request.user)
    ]
    completed = progress_selectors.completed_lesson_ids(learner=learner_for(request))
    return render(request, "curriculum/home.html", {"journeys": landing_journeys(outlines, completed)})


@require_GET
def journey_detail(request, journey_slug):
    journey = selectors.journey_for_user(user=request.user, journey_slug=journey_slug)
    outline = selectors.journey_outline_for_user(user=request.user, journey=journey)
    completed = progress_selectors.completed_lesson_ids(learner=learner_for(request), journey=journey)
    progress, module_progress = progress_selectors.outline_progress(outline, completed)
    context = {
        "journey": journey,
        "outline": outline,
        "completed": completed,
        "progress": progress,
        "module_progress": module_progress,
    }
    return render(request, "curriculum/journey_detail.html", context)


@require_GET
@cached_page(shared=True)
def lesson_detail(request, journey_slug, lesson_slug):
    lesson = selectors.lesson_for_user(user=request.user, journey_slug=journey_slug, lesson_slug=lesson_slug)
    outline = selectors.journey_outline_for_user(user=request.user, journey=lesson.journey)
    previous, following = selectors.lesson_neighbours(outline, lesson.slug)
    learner = learner_for(request)
    progress, fresh_for = lesson_reading(learner=learner, lesson=lesson, outline=outline)
    context = {
        "lesson": lesson,
        "journey": lesson.journey,
        "module": lesson.module,
        "outline": outline,
        "previous": previous,
        "next": following,
        **progress,
        "lab_panels": lab_panels_context(request, lesson),
        "outline_labs": labs_by_lesson(),
        **lesson_quiz_context(request, lesson),
    }
    return Page(request, "curriculum/lesson_detail.html", context, learner=learner, fresh_for=fresh_for)


@require_GET
def glossary(request):
    terms = selectors.glossary_terms()
    return render(request, "curriculum/glossary.html", {"terms": terms, "index": selectors.glossary_index(terms)})


@require_GET
def search(request):
    raw = request.GET.get("q", "")
    if UNSTORABLE.search(raw):
        # No database could look for it; said here, since the words read from it would drop it silently.
        context = {"query": "", "results": None, "refused": True}
        return render(request, "curriculum/search.html", context, status=400)
    results = search_for_user(user=request.user, query=raw)  # parse_query cuts it to size first
    template = "curriculum/search.html#results" if request.htmx else "curriculum/search.html"
    return render(request, template, {"query": results.query, "results": results})
