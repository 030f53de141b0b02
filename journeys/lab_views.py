"""Lab checks from the lesson page: read the learner's namespace (or their paste) and show the report."""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from . import services
from .learners import learner_for
from .models import LabRun, Lesson
from .ratelimit import seconds_until_allowed
from .sandbox.assignments import namespace_for
from .sandbox.labs import LABS
from .sandbox.sources import ClusterSource, FileSource, cluster_configured

LAB_TEMPLATE = "journeys/lab.html"
SOLUTIONS_DIR = Path(__file__).resolve().parent / "sandbox" / "solutions"
HISTORY_LENGTH = 5


@cache
def reference_solution(lab):
    path = SOLUTIONS_DIR / lab.solution_file
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def lab_for_lesson(lesson):
    return next((lab for lab in LABS.values() if lab.lesson == lesson.slug), None)


def lab_panel_context(request, lab, lesson, *, run=None, report=None, error=None):
    learner = learner_for(request)
    configured = cluster_configured()
    namespace, _ = namespace_for(request.user) if configured else (None, None)
    runs = list(learner.records(LabRun.objects.filter(lab_slug=lab.slug)).only(
        "id", "outcome", "source", "namespace", "created_at", "error_message"
    )[:HISTORY_LENGTH])  # fmt: skip
    return {
        "lab": lab,
        "lab_lesson": lesson,
        "lab_namespace": namespace,
        "cluster_mode": configured and namespace is not None,
        "cluster_configured": configured,
        "solution": reference_solution(lab),
        "lab_runs": runs,
        "run": run,
        "report": report if report is not None else (run.report if run else None),
        "lab_error": error,
    }


def _render_panel(request, context, status=200):
    return render(request, f"{LAB_TEMPLATE}#panel" if request.htmx else LAB_TEMPLATE, context, status=status)


@require_POST
def lab_check(request, lab_slug):
    lab = LABS.get(lab_slug)
    if lab is None:
        raise Http404("No such lab.")
    lesson = Lesson.objects.visible_to(request.user).select_related("journey", "module").filter(slug=lab.lesson).first()
    if lesson is None:
        raise Http404("This lab's lesson is not available.")
    learner = learner_for(request, create=True)
    wait = seconds_until_allowed(f"lab:{learner.key}", limit=settings.SANDBOX_RUNS_PER_MINUTE)
    if wait:
        error = f"You have checked a lot in the last minute. You can check again in {wait} seconds."
        response = _render_panel(request, lab_panel_context(request, lab, lesson, error=error), status=429)
        response["Retry-After"] = str(wait)
        return response

    mode = request.POST.get("mode", "")
    namespace, context = None, None
    if mode == "cluster":
        namespace, context = namespace_for(request.user)
        if not cluster_configured() or namespace is None:
            error = (
                "Checking against the cluster needs an account with an assigned namespace. "
                "Paste the output of kubectl get ... -o yaml instead."
            )
            return _render_panel(request, lab_panel_context(request, lab, lesson, error=error), status=400)
        source = ClusterSource(context=context)
    elif mode == "file":
        upload = request.FILES.get("upload")
        source = FileSource.from_upload(upload) if upload else FileSource(text=request.POST.get("paste", ""))
    else:
        error = "Choose how to check your work: against your namespace, or by pasting kubectl output."
        return _render_panel(request, lab_panel_context(request, lab, lesson, error=error), status=400)

    run, report = services.lab_check(learner=learner, lab=lab, lesson=lesson, source=source, namespace=namespace)
    if not request.htmx:
        return redirect("journeys:lab_run", run_id=run.pk)
    status = 400 if run.error_code == "bad-file" else 200
    return _render_panel(request, lab_panel_context(request, lab, lesson, run=run, report=report), status=status)


@require_GET
def lab_run(request, run_id):
    learner = learner_for(request)
    run = get_object_or_404(learner.records(LabRun.objects.select_related("lesson__journey")), pk=run_id)
    lab = LABS.get(run.lab_slug)
    if lab is None:
        raise Http404("This lab no longer exists.")
    return render(request, LAB_TEMPLATE, lab_panel_context(request, lab, run.lesson, run=run))
