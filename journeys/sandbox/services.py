"""Writes of the sandbox: run a lab's checks on a learner's objects and record the run."""

import logging
import time

from portal import metrics

from ..models import LabRun, LessonProgress
from ..progress.services import lesson_complete
from .gate import check_slot
from .labs import evaluate, kinds_for
from .report import storable
from .sources import SourceError

logger = logging.getLogger(__name__)


def lab_check(*, learner, lab, lesson, source, namespace=None):
    """Read the learner's objects, run the lab's checks and record the run. Return (run, report).

    A source that cannot be read raises its SourceError and records nothing: a refused paste is
    not an attempt at the lab, and a cluster that does not answer says nothing about the learner's
    work. The reason is logged for the operators and counted as an "error" in the metrics.
    """
    started = time.perf_counter()
    try:
        with check_slot():
            snapshot = source.snapshot(kinds_for(lab), namespace)
            report = evaluate(lab, snapshot, source=source.kind)
    except SourceError as exc:
        # A paste that cannot be read is the learner's to fix; a cluster that fails is the operators'.
        level = logging.INFO if exc.is_input_problem else logging.WARNING
        logger.log(
            level, "sandbox check %s for %s could not read objects (%s): %s",
            lab.slug, learner.user or "anonymous", exc.code, storable(exc.detail),
        )  # fmt: skip
        metrics.lab_run_recorded(outcome=LabRun.Outcome.ERROR, source=source.kind)
        raise
    run = LabRun.objects.create(
        **learner.owner_fields(),
        lab_slug=lab.slug,
        lesson=lesson,
        source=source.kind,
        namespace=report.namespace or namespace or "",
        outcome=report.outcome,
        report=report.as_dict(),
        duration_ms=round(1000 * (time.perf_counter() - started)),
    )
    if report.outcome == LabRun.Outcome.PASS:
        lesson_complete(learner=learner, lesson_id=lesson.pk, via=LessonProgress.Via.LAB)
    metrics.lab_run_recorded(outcome=report.outcome, source=source.kind)
    return run, report
