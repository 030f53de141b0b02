"""Lab fix-pending (break and fix): Deployment reports never runs; its Pods must be scheduled and Ready.

The starting manifest asks for far more CPU and memory than a node (or the namespace's quota) can give,
and for a node label no node has. Depending on the namespace, its Pods stay Pending or are not created at
all. The checks confirm requests sized for what the app needs, no impossible node selector, and Pods
that were scheduled and are Ready.
"""

from ..quantities import quantity_between
from .common import (
    condition,
    containers,
    exists_check,
    listing,
    metadata,
    pod_spec,
    requires,
    resource,
    result,
    shortened,
    spec,
)
from .repairs import pods_ready_check, replica_failure, same_app_check

LESSON = "namespaces-quotas-requests"
LAB = f"{LESSON}#lab-fix-pending"
NAME = "reports"
CONTAINER = "reports"
# What the app needs (the task says so), and the most a small practice cluster can be expected to give.
BOUNDS = {
    ("requests", "cpu"): ("50m", "500m"),
    ("requests", "memory"): ("64Mi", "512Mi"),
}
LIMIT_MAX = {"cpu": "1", "memory": "1Gi"}
MISSING_LABEL = "disktype"


deployment_exists = exists_check(
    "deployment-exists",
    "Deployment",
    NAME,
    hint="Apply the starting manifest of this lab (`kubectl apply -f fix-pending.yaml`), then fix it.",
    teaches=LAB,
)


@requires(
    "Deployment", NAME, "resources-fit", "Requests sized for the app", teaches=LAB,
    looks_for="cpu and memory requests close to what the app needs (about `100m` and `128Mi`): between `50m` and "
    "`500m` of CPU and between `64Mi` and `512Mi` of memory, and limits, where set, of at most `1` CPU and `1Gi`",
)  # fmt: skip
def resources_fit(snapshot, found):
    problems = []
    for container, kind in containers(pod_spec(found)):
        where = f"{kind} {container.get('name')}"
        for (section, name), (low, high) in BOUNDS.items():
            value = resource(container, section, name)
            if value is None:
                problems.append(f"{where}: no {name} request")
            elif not quantity_between(value, low, high):
                problems.append(f"{where}: {name} request {shortened(value, 20)}, not between {low} and {high}")
        for name, most in LIMIT_MAX.items():
            value = resource(container, "limits", name)
            if value is not None and not quantity_between(value, "0", most):
                problems.append(f"{where}: {name} limit {shortened(value, 20)}, above {most}")
    return result(
        "resources-fit", "Requests sized for the app", not problems,
        expected="requests of 50m–500m CPU and 64Mi–512Mi memory; limits of at most 1 CPU and 1Gi",
        actual=listing(problems) or "sized to fit",
        hint="The scheduler places a Pod only on a node with room for its requests, and a quota refuses a Pod whose "
        "requests or limits go over what is left. Ask for what the app needs (about 100m CPU and 128Mi memory), "
        "with a memory limit a little above it.",
        teaches=f"{LESSON}#requests-and-limits",
    )  # fmt: skip


@requires(
    "Deployment", NAME, "any-node", "Runs on any node", teaches=LAB,
    looks_for=f"no `nodeSelector` asking for the `{MISSING_LABEL}` label, which no node of the cluster carries",
)  # fmt: skip
def any_node(snapshot, found):
    selector = pod_spec(found).get("nodeSelector") or {}
    shown = listing((f"{shortened(key, 40)}={shortened(value, 40)}" for key, value in selector.items()), ", ")
    return result(
        "any-node", "Runs on any node", MISSING_LABEL not in selector,
        expected=f"no nodeSelector on {MISSING_LABEL}", actual=f"nodeSelector: {shown or 'none'}",
        hint="A nodeSelector lets a Pod run only on nodes with every label it lists; when no node has them, the "
        "scheduler leaves the Pod Pending (`didn't match Pod's node affinity/selector`). The app runs anywhere: "
        "remove the selector rather than labelling a node.",
        teaches="troubleshooting#node-selectors-and-taints",
    )  # fmt: skip


same_app = same_app_check(
    "Deployment", NAME, CONTAINER, "registry.k8s.io/e2e-test-images/agnhost", teaches=LAB, lab_anchor=LAB,
    markers=("netexec",),
    looks_for=f"container `{CONTAINER}` still running the `agnhost` image with `netexec`: the app you were given, "
    "repaired rather than replaced",
)  # fmt: skip


@requires(
    "Deployment", NAME, "pods-scheduled", "Every Pod scheduled", teaches=LAB,
    looks_for="the Deployment's Pods created and placed on a node (their `PodScheduled` condition), read from the "
    "cluster or your `kubectl get` output, Pods included",
)  # fmt: skip
def pods_scheduled(snapshot, found):
    pods = snapshot.pods_of(found)
    pending = []
    for pod in pods:
        scheduled = condition(pod, "PodScheduled")
        if scheduled is None or str(scheduled.get("status")) != "True":
            message = (scheduled or {}).get("message") or "not scheduled yet"
            pending.append(f"{shortened(metadata(pod).get('name', '?'), 60)}: {shortened(message, 160)}")
    wanted = spec(found).get("replicas", 1)
    if pods:
        actual = listing(pending) if pending else f"{len(pods)} scheduled"
    else:
        failure = replica_failure(found)
        actual = f"no Pods were created: {failure}" if failure else "no Pods of this Deployment in what was read"
    return result(
        "pods-scheduled", "Every Pod scheduled", bool(pods) and not pending and len(pods) >= wanted,
        expected=f"{wanted} Pod{'s' if wanted != 1 else ''} with PodScheduled True", actual=actual,
        hint="A Pending Pod's events say why no node fits (`kubectl describe pod <name>`). When no Pod exists at all, "
        "the ReplicaSet could not create one: `kubectl describe replicaset -l app=reports` shows the quota or "
        "LimitRange that refused it.",
        teaches="troubleshooting#pending-the-pod-has-no-node",
    )  # fmt: skip


pods_ready = pods_ready_check("Deployment", NAME, teaches="troubleshooting#pending-the-pod-has-no-node", lab_anchor=LAB)


CHECKS = [deployment_exists, resources_fit, any_node, same_app, pods_scheduled, pods_ready]
WORKLOADS = [("Deployment", NAME)]
