"""A learner's own progress: mark lessons complete, the dashboard, the certificate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..curriculum.selectors import journey_for_user
from ..learners import learner_for
from ..models import Lesson
from ..pages import Page, cached_page
from ..quizzes import selectors as quiz_selectors
from ..sandbox.mine import section_context as sandbox_section
from . import selectors, services
from .forms import CertificateNameForm
from .panels import lesson_progress_context


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
    # The button is the second way to complete a lesson with a quiz (a cached read: no query).
    quiz = quiz_selectors.quiz_with_questions({"lesson": lesson})
    has_quiz = quiz is not None and quiz_selectors.quiz_visible_to(quiz, request.user)
    context = lesson_progress_context(learner, lesson, has_quiz=has_quiz)
    return render(request, "curriculum/lesson_detail.html#completion", context)


# The dashboard says how long ago things happened, in minutes: a stored copy may be this old.
DASHBOARD_FRESH_SECONDS = 60


@require_GET
@cached_page()
def dashboard(request):
    learner = learner_for(request)
    context = selectors.dashboard_for_learner(learner=learner, user=request.user)
    context["sandbox_section"] = sandbox_section(request)
    return Page(request, "progress/dashboard.html", context, learner=learner, fresh_for=DASHBOARD_FRESH_SECONDS)


@login_required
def certificate(request, journey_slug):
    """The learner's own certificate page: issue it when earned, else say what is left."""
    journey = journey_for_user(user=request.user, journey_slug=journey_slug)
    learner = learner_for(request)
    requirements = selectors.certificate_requirements(learner=learner, journey=journey)
    issued = services.certificate_issue(user=request.user, journey=journey, requirements=requirements)
    if issued is not None:
        return redirect(issued.get_absolute_url())
    return render(request, "progress/certificate_pending.html", {"journey": journey, "requirements": requirements})


@require_GET
def certificate_verify(request, code):
    """Public: anyone with the link can confirm the certificate is genuine; its owner sets the name on it."""
    issued = selectors.certificate_by_code(code=code)
    if issued is None:
        return certificate_not_found(request, code)
    form = None
    if request.user.is_authenticated and issued.user_id == request.user.pk:
        form = CertificateNameForm(initial={"learner_name": issued.learner_name})
    return _certificate_page(request, issued, form)


@login_required
@require_POST
def certificate_name(request, code):
    """The owner changes the name printed on their certificate; nobody else can."""
    issued = selectors.certificate_by_code(code=code)
    if issued is None:
        return certificate_not_found(request, code)
    if issued.user_id != request.user.pk:
        return render(request, "progress/certificate_not_yours.html", {"certificate": issued}, status=403)
    form = CertificateNameForm(request.POST)
    if not form.is_valid():
        return _certificate_page(request, issued, form, status=400)
    services.certificate_rename(certificate=issued, learner_name=form.cleaned_data["learner_name"])
    messages.success(request, f"Saved: your certificate now reads “{issued.learner_name}”.")
    return redirect(issued.get_absolute_url())


def _certificate_page(request, issued, form, status=200):
    context = {
        "certificate": issued,
        "is_owner": form is not None,
        "form": form,
        "verify_url": request.build_absolute_uri(issued.get_absolute_url()),
    }
    return render(request, "progress/certificate.html", context, status=status)


def certificate_not_found(request, code):
    """A code that matches no certificate: a page that says so (404), in debug and production alike."""
    shown = code if selectors.CERTIFICATE_CODE.fullmatch(code) else ""
    return render(request, "progress/certificate_invalid.html", {"code": shown}, status=404)
