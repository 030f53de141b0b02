"""The nine labs: their slugs (a contract), what they ask for, and which checks and kinds they need."""

import logging
from dataclasses import dataclass

from .checks import cronjobs, daemonsets, declarative, helm, jobs, probes, quotas, rbac, statefulsets
from .checks.advisories import advisories_for
from .report import ERROR, CheckResult, LabReport

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lab:
    slug: str
    title: str
    lesson: str
    module: object
    # The kinds a check run lists from the namespace (one list call each).
    kinds: tuple
    task: str
    steps: tuple

    @property
    def checks(self):
        return self.module.CHECKS

    @property
    def solution_file(self):
        return f"{self.slug}.sh" if self.slug == "helm-release" else f"{self.slug}.yaml"


LABS = {
    lab.slug: lab
    for lab in [
        Lab(
            "stateful-web", "A StatefulSet with stable names and storage", "statefulsets", statefulsets,
            ("StatefulSet", "Service", "Pod"),
            "Run three nginx Pods as a StatefulSet with a headless Service and a volume for each Pod.",
            ("Create a headless Service named `web` (`clusterIP: None`) whose selector matches the Pods' labels.",
             "Create a StatefulSet named `web` with `replicas: 3` and `serviceName: web`.",
             "Give it a volumeClaimTemplate named `www` and mount it into the container (the lesson mounts it at "
             "`/usr/share/nginx/html`, where nginx serves files).",
             "Wait for `web-0`, `web-1` and `web-2` to be Ready, then check your work."),
        ),
        Lab(
            "node-agent", "An agent on every node", "daemonsets", daemonsets, ("DaemonSet", "Pod"),
            "Run a small agent on every node of the cluster, control-plane nodes included.",
            ("Create a DaemonSet named `node-agent`.",
             "Let it tolerate the `node-role.kubernetes.io/control-plane:NoSchedule` taint.",
             "Give every container, init containers included, cpu and memory requests and a memory limit no lower "
             "than its memory request.",
             "Wait until a Pod is Ready on every node the DaemonSet schedules to, then check your work."),
        ),
        Lab(
            "batch-pi", "A parallel Job", "jobs", jobs, ("Job", "Pod"),
            "Compute pi three times, two Pods at a time, and let the Job finish.",
            ("Create a Job named `pi` with `completions: 3` and `parallelism: 2`, and a container that computes pi "
             "and exits.",
             "Use `restartPolicy: Never` or `OnFailure` in its pod template.",
             "Wait for the Job to complete (three Pods succeeded), then check your work; leave out "
             "`ttlSecondsAfterFinished` so the finished Job stays to be checked."),
        ),
        Lab(
            "nightly-backup", "A nightly CronJob", "cronjobs", cronjobs, ("CronJob",),
            "Schedule a backup every night at 02:00 that never overlaps itself.",
            ("Create a CronJob named `backup` with the schedule `0 2 * * *`.",
             "Set `concurrencyPolicy: Forbid`.",
             "Set `startingDeadlineSeconds` to a number of seconds, for example 600.",
             "Give its Job template a container that does the backup and `restartPolicy: OnFailure` or `Never`.",
             "Check your work (you do not need to wait for 02:00)."),
        ),
        Lab(
            "declarative-frontend", "A Deployment managed from a file", "declarative-configuration", declarative,
            ("Deployment", "ReplicaSet", "Pod"),
            "Create a Deployment only from a YAML file with kubectl apply, and keep the file the source of truth.",
            ("Write `frontend.yaml`: a Deployment named `frontend` with at least 2 replicas.",
             "Create it with `kubectl apply -f frontend.yaml`.",
             "Make every later change in the file and apply it again; no `kubectl scale`, `edit`, `set`, `patch`, "
             "`replace`, `label`, `annotate` or `rollout restart` on it.",
             "Wait until it is available, with at least 2 replicas available, then check your work."),
        ),
        Lab(
            "least-privilege", "A ServiceAccount that may only read Pods", "serviceaccounts-and-rbac", rbac,
            ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"),
            "Give a reporting workload its own identity with exactly the permission it needs: reading Pods.",
            ("Create a ServiceAccount named `reporter`.",
             "Create a Role named `pod-reader` that allows `get`, `list` and `watch` on `pods` in the core API group, "
             "and nothing else.",
             "Bind the Role to the ServiceAccount with a RoleBinding, and bind nothing else to `reporter`.",
             "Run a workload named `reporter` (a Deployment, say) with `serviceAccountName: reporter`, then check your "
             "work."),
        ),
        Lab(
            "team-quota", "Quotas, defaults and requests for a team", "namespaces-quotas-requests", quotas,
            ("ResourceQuota", "LimitRange", "Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"),
            "Cap what your namespace may use and make sure every container says what it needs.",
            ("Create a ResourceQuota named `team-quota` with `requests.cpu`, `requests.memory`, `limits.cpu`, "
             "`limits.memory` and `pods`, each limits value at least the matching requests value.",
             "Create a LimitRange with a `type: Container` entry whose `defaultRequest` sets cpu and memory and whose "
             "`default` (the default limit) sets memory.",
             "Run at least one workload here, and give every container and init container you declare cpu and memory "
             "requests and a memory limit.",
             "Check your work."),
        ),
        Lab(
            "helm-release", "Install a Helm release", "helm-charts", helm,
            ("Deployment", "StatefulSet", "DaemonSet", "Service", "ServiceAccount", "ConfigMap"),
            "Install a chart as the release demo into your namespace.",
            ("Create a chart with `helm create demo`, or use another chart that runs a Deployment, StatefulSet or "
             "DaemonSet.",
             "Install it as the release `demo` into your own namespace: `helm install demo ./demo -n <your namespace>`.",
             "Check your work."),
        ),
        Lab(
            "healthy-app", "A Deployment with probes and requests", "monitoring", probes,
            ("Deployment", "ReplicaSet", "Pod"),
            "Make a Deployment that tells Kubernetes when it is ready and when it is stuck.",
            ("Create a Deployment named `api` whose container declares the port it listens on (`containerPort`).",
             "Add a readinessProbe and a livenessProbe that check a declared port with `httpGet`, `tcpSocket` or "
             "`grpc`.",
             "Set cpu and memory requests on every container.",
             "Wait until every Pod is Ready, then check your work."),
        ),
    ]
}  # fmt: skip


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
