"""The lab panel's context: a lab's task, the learner's latest runs, and where their work is checked."""

from ..learners import learner_for
from ..models import LabRun
from . import texts as lab_texts
from .assignments import namespace_for
from .labs import labs_for_lesson
from .provisioning import provisioning_enabled
from .reviewer import advice_groups
from .sources import cluster_configured

HISTORY_LENGTH = 5


def lab_panels_context(request, lesson):
    """One panel context per lab of ``lesson`` (a lesson may have a build lab and a break-and-fix lab)."""
    labs = labs_for_lesson(lesson.slug)
    if not labs:
        return []
    where = _where_checked(request)
    return [lab_panel_context(request, lab, lesson, where=where) for lab in labs]


def _where_checked(request):
    configured = cluster_configured()
    namespace, _ = namespace_for(request.user) if configured else (None, None)
    return configured, namespace


def lab_panel_context(request, lab, lesson, *, run=None, report=None, error=None, where=None):
    learner = learner_for(request)
    configured, namespace = where or _where_checked(request)
    runs = list(learner.records(LabRun.objects.filter(lab_slug=lab.slug)).only(
        "id", "outcome", "source", "namespace", "created_at", "error_message"
    )[:HISTORY_LENGTH])  # fmt: skip
    report = report if report is not None else (run.report if run else None)
    advisories = report.get("advisories") if isinstance(report, dict) else getattr(report, "advisories", None)
    return {
        "lab": lab,
        "lab_lesson": lesson,
        "lab_namespace": namespace,
        "cluster_mode": configured and namespace is not None,
        "cluster_configured": configured,
        "lab_task": lab_texts.task_html(lab, lesson.journey.slug),
        "lab_starting": lab_texts.starting_html(lab),
        "solution": lab_texts.solution_html(lab),
        "lab_runs": runs,
        "run": run,
        "report": report,
        "advice": advice_groups(advisories),
        "lab_error": error,
        # With provisioning on, a learner without a namespace is offered one right here.
        "sandbox_offer": namespace is None and provisioning_enabled(),
        "sandbox_provisioned": namespace is not None and provisioning_enabled(),
    }
