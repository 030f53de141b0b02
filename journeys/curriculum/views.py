"""The curriculum's pages: journeys, a journey's outline, a lesson, the glossary, search.

Thin views: pick the selectors, render the page (or, for htmx requests, one partial of it).
"""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..learners import learner_for
from ..models import can_preview_drafts
from ..pages import Page, cached_page
from ..progress import selectors as progress_selectors
from ..progress import services as progress_services
from ..quizzes import selectors as quiz_selectors
from ..quizzes.panels import quiz_panel_context
from ..sandbox.panels import lab_panels_context
from . import selectors
from .search import MAX_QUERY_LENGTH, lessons_search_for_user


@require_GET
def home(request):
    journeys = selectors.journey_list_for_user(user=request.user)
    return render(request, "curriculum/home.html", {"journeys": journeys})


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
        "has_final_assessment": quiz_selectors.has_final_assessment(journey=journey, user=request.user),
    }
    return render(request, "curriculum/journey_detail.html", context)


@require_GET
@cached_page(shared=True)
def lesson_detail(request, journey_slug, lesson_slug):
    lesson = selectors.lesson_for_user(user=request.user, journey_slug=journey_slug, lesson_slug=lesson_slug)
    outline = selectors.journey_outline_for_user(user=request.user, journey=lesson.journey)
    previous, following = selectors.lesson_neighbours(outline, lesson.slug)
    learner = learner_for(request)
    progress_rows = {}
    if learner.is_known:
        progress_rows = progress_selectors.journey_progress(learner=learner, journey=lesson.journey)
    viewed = progress_rows[lesson.pk][1] if lesson.pk in progress_rows else progress_services.NOT_RECORDED
    viewed_at = progress_services.lesson_viewed(learner=learner, lesson_id=lesson.pk, last_viewed_at=viewed)
    completed = {lesson_id for lesson_id, (done, _) in progress_rows.items() if done}
    progress, module_progress = progress_selectors.outline_progress(outline, completed)
    context = {
        "lesson": lesson,
        "journey": lesson.journey,
        "module": lesson.module,
        "outline": outline,
        "previous": previous,
        "next": following,
        "is_complete": lesson.pk in completed,
        "progress": progress,
        "module_progress": module_progress.get(lesson.module.slug),
    }
    context["lab_panels"] = lab_panels_context(request, lesson)
    quiz = quiz_selectors.quiz_with_questions({"lesson": lesson})
    if quiz is not None and quiz_selectors.quiz_visible_to(quiz, request.user):
        context.update(quiz_panel_context(request, quiz))
    elif quiz is not None and can_preview_drafts(request.user):
        # Learners see no quiz here; staff see why, with the way to admin.
        context["unavailable_quiz"] = quiz
    # Until the view is due to be recorded again, nothing but a write can change this page.
    fresh_for = (viewed_at + progress_services.VIEW_RECORD_INTERVAL - timezone.now()).total_seconds()
    return Page(request, "curriculum/lesson_detail.html", context, learner=learner, fresh_for=fresh_for)


@require_GET
def glossary(request):
    return render(request, "curriculum/glossary.html", {"terms": selectors.glossary_terms()})


@require_GET
def search(request):
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    hits = lessons_search_for_user(user=request.user, query=query) if query else []
    template = "curriculum/search.html#results" if request.htmx else "curriculum/search.html"
    return render(request, template, {"query": query, "hits": hits})
