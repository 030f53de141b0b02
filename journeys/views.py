"""Thin views: pick the selector, render the page (or, for htmx requests, one partial of it)."""

from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal import metrics, metrics_access, resilience

from . import learner_pages, page_cache, selectors, services
from .lab_views import lab_panels_context
from .learners import learner_for
from .models import can_preview_drafts
from .quiz_views import quiz_panel_context
from .search import MAX_QUERY_LENGTH, lessons_search_for_user


@require_GET
def home(request):
    journeys = selectors.journey_list_for_user(user=request.user)
    return render(request, "journeys/home.html", {"journeys": journeys})


@require_GET
def journey_detail(request, journey_slug):
    journey = selectors.journey_for_user(user=request.user, journey_slug=journey_slug)
    outline = selectors.journey_outline_for_user(user=request.user, journey=journey)
    completed = selectors.completed_lesson_ids(learner=learner_for(request), journey=journey)
    progress, module_progress = selectors.outline_progress(outline, completed)
    context = {
        "journey": journey,
        "outline": outline,
        "completed": completed,
        "progress": progress,
        "module_progress": module_progress,
        "has_final_assessment": selectors.has_final_assessment(journey=journey, user=request.user),
    }
    return render(request, "journeys/journey_detail.html", context)


@require_GET
def lesson_detail(request, journey_slug, lesson_slug):
    shared_page = page_cache.applies(request)
    if shared_page and (response := page_cache.serve(request)) is not None:
        return response
    stored = None if shared_page else learner_pages.lookup(request)
    if stored is not None and (response := stored.response()) is not None:
        return response
    lesson = selectors.lesson_for_user(user=request.user, journey_slug=journey_slug, lesson_slug=lesson_slug)
    outline = selectors.journey_outline_for_user(user=request.user, journey=lesson.journey)
    previous, following = selectors.lesson_neighbours(outline, lesson.slug)
    learner = learner_for(request)
    progress_rows = selectors.journey_progress(learner=learner, journey=lesson.journey) if learner.is_known else {}
    viewed = progress_rows[lesson.pk][1] if lesson.pk in progress_rows else services.NOT_RECORDED
    viewed_at = services.lesson_viewed(learner=learner, lesson_id=lesson.pk, last_viewed_at=viewed)
    completed = {lesson_id for lesson_id, (done, _) in progress_rows.items() if done}
    progress, module_progress = selectors.outline_progress(outline, completed)
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
    quiz = selectors.quiz_with_questions({"lesson": lesson})
    if quiz is not None and selectors.quiz_visible_to(quiz, request.user):
        context.update(quiz_panel_context(request, quiz))
    elif quiz is not None and can_preview_drafts(request.user):
        # Learners see no quiz here; staff see why, with the way to admin.
        context["unavailable_quiz"] = quiz
    if stored is not None:
        # Until the view is due to be recorded again, nothing but a write can change this page.
        fresh_for = (viewed_at + services.VIEW_RECORD_INTERVAL - timezone.now()).total_seconds()
        return stored.render("journeys/lesson_detail.html", context, learner=learner, fresh_for=fresh_for)
    if not shared_page:
        return render(request, "journeys/lesson_detail.html", context)
    # One token for the whole page, so the cached copy can swap it for each reader's own.
    context["csrf_token"] = get_token(request)
    response = render(request, "journeys/lesson_detail.html", context)
    page_cache.store(request, response, csrf_token=context["csrf_token"], quiz_form=context.get("open_form"))
    return response


@require_GET
def glossary(request):
    return render(request, "journeys/glossary.html", {"terms": selectors.glossary_terms()})


@require_GET
def search(request):
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    hits = lessons_search_for_user(user=request.user, query=query) if query else []
    template = "journeys/search.html#results" if request.htmx else "journeys/search.html"
    return render(request, template, {"query": query, "hits": hits})


@require_GET
@never_cache
def healthz(request):
    """The process answers. No database and no cache (no middleware reads the session here either):
    a slow database or a hung cache must not get a live pod restarted."""
    return HttpResponse("ok\n", content_type="text/plain")


@require_GET
@never_cache
def metrics_view(request):
    """Prometheus text format, for the operator's scrapers (see portal.metrics_access).

    Anyone else gets 404, as if there were nothing here: the figures are not published to the
    internet along with the site.
    """
    if not metrics_access.allowed(request):
        raise Http404("Metrics are only served to the operator's scrapers.")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


@require_GET
@never_cache
def readyz(request):
    """503 only without the database. The cache is reported, but a pod whose cache is down still
    serves every page (from the database), so taking it out of service would only make things worse."""
    cache = resilience.cache_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "database": "unreachable", "cache": cache}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "cache": cache})
