"""A learner's own progress: mark lessons complete, the dashboard, the certificate."""

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import learner_pages, selectors, services
from .learners import learner_for
from .models import Certificate, Lesson


@require_POST
def lesson_complete(request, lesson_id):
    lesson = get_object_or_404(
        Lesson.objects.visible_to(request.user).select_related("journey", "module"), pk=lesson_id
    )
    learner = learner_for(request, create=True)
    if request.POST.get("undo") == "1":
        services.lesson_uncomplete(learner=learner, lesson_id=lesson.pk)
    else:
        services.lesson_complete(learner=learner, lesson_id=lesson.pk)
    if not request.htmx:
        return redirect(lesson.get_absolute_url())
    return render(request, "journeys/lesson_detail.html#completion", lesson_progress_context(learner, lesson))


def lesson_progress_context(learner, lesson, *, completion_oob=False):
    """The completion button and progress bars of a lesson page, for an htmx swap after a change."""
    outline = selectors.journey_outline_for_user(user=learner.user or AnonymousUser(), journey=lesson.journey)
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


# The dashboard says how long ago things happened, in minutes: a stored copy may be this old.
DASHBOARD_FRESH_SECONDS = 60


@require_GET
def dashboard(request):
    stored = learner_pages.lookup(request)
    if stored is not None and (response := stored.response()) is not None:
        return response
    learner = learner_for(request)
    context = selectors.dashboard_for_learner(learner=learner, user=request.user)
    if stored is None:
        return render(request, "journeys/dashboard.html", context)
    return stored.render("journeys/dashboard.html", context, learner=learner, fresh_for=DASHBOARD_FRESH_SECONDS)


@login_required
def certificate(request, journey_slug):
    """The learner's own certificate page: issue it when earned, else say what is left."""
    journey = selectors.journey_for_user(user=request.user, journey_slug=journey_slug)
    learner = learner_for(request)
    requirements = selectors.certificate_requirements(learner=learner, journey=journey)
    issued = services.certificate_issue(user=request.user, journey=journey, requirements=requirements)
    if issued is not None:
        return redirect(issued.get_absolute_url())
    return render(request, "journeys/certificate_pending.html", {"journey": journey, "requirements": requirements})


@require_GET
def certificate_verify(request, code):
    """Public: anyone with the link can confirm the certificate is genuine."""
    issued = get_object_or_404(Certificate.objects.select_related("journey", "user"), code=code)
    is_owner = request.user.is_authenticated and issued.user_id == request.user.pk
    return render(request, "journeys/certificate.html", {"certificate": issued, "is_owner": is_owner})
