"""The labs: their slugs (a contract), the lessons they belong to, and which checks and kinds they need.

What a lab asks the learner to do is written once, in ``tasks/<slug>.md``; what it checks is read from its
checks (each says what it looks for); a break-and-fix lab hands the learner ``starting/<slug>.yaml``; and
``solutions/`` holds the one reference solution. ``journeys.sandbox.texts`` turns these into the lab panel.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

from .checks import (
    cronjobs,
    daemonsets,
    declarative,
    hardening,
    helm,
    jobs,
    probes,
    quotas,
    rbac,
    scheduling,
    startup,
    statefulsets,
    troubleshooting,
)
from .checks.advisories import advisories_for
from .report import ERROR, CheckResult, LabReport

logger = logging.getLogger(__name__)

SANDBOX_DIR = Path(__file__).resolve().parent
TASKS_DIR = SANDBOX_DIR / "tasks"
STARTING_DIR = SANDBOX_DIR / "starting"
SOLUTIONS_DIR = SANDBOX_DIR / "solutions"
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "Pod")


@dataclass(frozen=True)
class Lab:
    slug: str
    title: str
    lesson: str
    module: object
    # The kinds a check run lists from the namespace (one list call each).
    kinds: tuple
    # A break-and-fix lab: the learner starts from the broken manifest in starting/<slug>.yaml.
    fix: bool = False

    @property
    def checks(self):
        return self.module.CHECKS

    @property
    def checked(self):
        """(id, title, what it looks for) of every check, in the order a report lists them."""
        return [(check.check_id, check.title, check.looks_for) for check in self.checks]

    @property
    def solution_file(self):
        return f"{self.slug}.sh" if self.slug == "helm-release" else f"{self.slug}.yaml"

    @property
    def starting_file(self):
        return f"{self.slug}.yaml" if self.fix else None

    @property
    def task_path(self):
        return TASKS_DIR / f"{self.slug}.md"

    @property
    def solution_path(self):
        return SOLUTIONS_DIR / self.solution_file

    @property
    def starting_path(self):
        return STARTING_DIR / self.starting_file if self.fix else None


LABS = {
    lab.slug: lab
    for lab in [
        Lab("stateful-web", "A StatefulSet with stable names and storage", "statefulsets", statefulsets,
            ("StatefulSet", "Service", "Pod")),
        Lab("node-agent", "An agent on every node", "daemonsets", daemonsets, ("DaemonSet", "Pod")),
        Lab("batch-pi", "A parallel Job", "jobs", jobs, ("Job", "Pod")),
        Lab("nightly-backup", "A nightly CronJob", "cronjobs", cronjobs, ("CronJob",)),
        Lab("declarative-frontend", "A Deployment managed from a file", "declarative-configuration", declarative,
            WORKLOAD_KINDS),
        Lab("least-privilege", "A ServiceAccount that may only read Pods", "serviceaccounts-and-rbac", rbac,
            ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "Deployment", "ReplicaSet", "StatefulSet",
             "DaemonSet", "Job", "CronJob", "Pod")),
        Lab("fix-hardened-web", "Fix a hardened web server that crashes", "serviceaccounts-and-rbac", hardening,
            WORKLOAD_KINDS, fix=True),
        Lab("team-quota", "Quotas, defaults and requests for a team", "namespaces-quotas-requests", quotas,
            ("ResourceQuota", "LimitRange", "Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")),
        Lab("fix-pending", "Fix a workload that never starts", "namespaces-quotas-requests", scheduling,
            WORKLOAD_KINDS, fix=True),
        Lab("healthy-app", "A Deployment with probes and requests", "monitoring", probes, WORKLOAD_KINDS),
        Lab("fix-probes", "Fix probes that kill a slow starter", "monitoring", startup, WORKLOAD_KINDS, fix=True),
        Lab("fix-orders", "Troubleshoot a Deployment that will not run", "troubleshooting", troubleshooting,
            (*WORKLOAD_KINDS, "ConfigMap"), fix=True),
        Lab("helm-release", "Install a Helm release", "helm-charts", helm,
            ("Deployment", "StatefulSet", "DaemonSet", "Service", "ServiceAccount", "ConfigMap")),
    ]
}  # fmt: skip


def labs_for_lesson(lesson_slug):
    """The labs of one lesson, in the order the lesson shows them (a lesson may have a build lab and a fix lab)."""
    return [lab for lab in LABS.values() if lab.lesson == lesson_slug]


def kinds_for(lab):
    """Every kind a run of ``lab`` lists: its checks', plus RoleBindings for the token-automount advice."""
    kinds = list(lab.kinds)
    if "RoleBinding" not in kinds:
        kinds.append("RoleBinding")
    return tuple(kinds)


def evaluate(lab, snapshot, *, source):
    """Run every check of ``lab`` over ``snapshot``. Pure: no I/O.

    Objects reach the checks with their shape already checked (see shapes.py), so an exception here
    is a bug in a check. It costs that one check (an ``error`` result) or the advice, never the report.
    """
    report = LabReport(lab=lab.slug, namespace=snapshot.namespace, source=source)
    for check in lab.checks:
        try:
            report.checks.append(check(snapshot))
        except Exception as exc:  # noqa: BLE001 - one broken check must not take the others with it
            _log_fault(f"check {check.__name__}", lab, snapshot, exc)
            report.checks.append(unreadable_result(check, exc))
    try:
        report.advisories = advisories_for(snapshot, lab.module.WORKLOADS)
    except Exception as exc:  # noqa: BLE001 - advice is a nicety; the checks' verdict stands without it
        _log_fault("the reviewer's advice", lab, snapshot, exc)
        report.advisories = []
    return report


def _log_fault(what, lab, snapshot, exc):
    # One line for the operators (the command line promises no traceback); the traceback at DEBUG.
    logger.warning("lab %s: %s failed on namespace %s (%s)", lab.slug, what, snapshot.namespace, exc.__class__.__name__)
    logger.debug("lab %s: %s failed", lab.slug, what, exc_info=exc)


def unreadable_result(check, exc):
    check_id = check.__name__.replace("_", "-")
    return CheckResult(
        id=check_id,
        title=check.__name__.replace("_", " ").capitalize(),
        status=ERROR,
        actual=f"this check could not read your objects ({exc.__class__.__name__})",
        hint="This is a fault in the portal, not in your work: check again with unmodified kubectl get ... -o yaml "
        "output, and tell your administrator if it keeps happening.",
    )


def labs_by_lesson():
    """{lesson slug: its labs, in page order}, for an outline that lists every lesson's labs (no query)."""
    grouped = {}
    for lab in LABS.values():
        grouped.setdefault(lab.lesson, []).append(lab)
    return grouped
