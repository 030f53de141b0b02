"""Lab node-agent: DaemonSet ready on every node, tolerating the control-plane taint, with requests and a memory limit."""

from .common import (
    containers,
    exists_check,
    listing,
    pod_spec,
    quantity_problem,
    requests_above_limits,
    requires,
    result,
    status,
    tolerates,
)

LESSON = "daemonsets"
LAB = f"{LESSON}#lab-node-agent"
NAME = "node-agent"
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


daemonset_exists = exists_check(
    "daemonset-exists",
    "DaemonSet",
    NAME,
    hint="Apply a manifest with kind: DaemonSet and metadata.name: node-agent.",
    teaches=f"{LESSON}#one-pod-per-node",
)


@requires(
    "DaemonSet", NAME, "ready-on-every-node", "Ready on every node", teaches=LAB,
    looks_for="a Ready Pod on every node the DaemonSet is scheduled to (its status counts)",
)  # fmt: skip
def ready_on_every_node(snapshot, found):
    desired, ready = status(found).get("desiredNumberScheduled", 0), status(found).get("numberReady", 0)
    return result(
        "ready-on-every-node", "Ready on every node", desired > 0 and ready == desired,
        expected="one Ready Pod on each node it is scheduled to", actual=f"{ready} of {desired} Ready",
        hint="Find the Pod that is not Ready with `kubectl get pods -l <your label> -o wide` and read its events with "
        "`kubectl describe pod`. If no Pod is scheduled at all, check the nodeSelector.",
        teaches=f"{LESSON}#one-pod-per-node",
    )  # fmt: skip


@requires(
    "DaemonSet", NAME, "tolerates-control-plane", "Tolerates the control-plane taint", teaches=LAB,
    looks_for="a toleration for `node-role.kubernetes.io/control-plane:NoSchedule`",
)  # fmt: skip
def tolerates_control_plane(snapshot, found):
    tolerations = pod_spec(found).get("tolerations") or []
    shown = listing(
        f"{item.get('key') or '(any key)'} {item.get('operator') or 'Equal'} {item.get('effect') or '(any effect)'}"
        for item in tolerations
    )
    return result(
        "tolerates-control-plane", "Tolerates the control-plane taint",
        any(tolerates(item, CONTROL_PLANE_TAINT) for item in tolerations),
        expected="a toleration for node-role.kubernetes.io/control-plane:NoSchedule", actual=f"tolerations: {shown or 'none'}",
        hint="Add to the pod template: tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, "
        "effect: NoSchedule}].",
        teaches=f"{LESSON}#widening-with-tolerations",
    )  # fmt: skip


def _containers_lacking(found, section, names):
    lacking = []
    for container, kind in containers(pod_spec(found)):
        problems = [problem for name in names if (problem := quantity_problem(container, section, name))]
        if problems:
            lacking.append(f"{kind} {container.get('name')} has {' and '.join(problems)}")
    return lacking


@requires(
    "DaemonSet", NAME, "cpu-memory-requests", "CPU and memory requests", teaches=LAB,
    looks_for="cpu and memory requests on every container and init container",
)  # fmt: skip
def cpu_memory_requests(snapshot, found):
    lacking = _containers_lacking(found, "requests", ["cpu", "memory"])
    return result(
        "cpu-memory-requests", "CPU and memory requests", not lacking,
        expected="every container requests cpu and memory", actual=listing(lacking) or "all containers do",
        hint="Under resources.requests of each container set cpu (e.g. 10m) and memory (e.g. 32Mi).",
        teaches="namespaces-quotas-requests#requests-and-limits",
    )  # fmt: skip


@requires(
    "DaemonSet", NAME, "memory-limit", "A memory limit", teaches=LAB,
    looks_for="a memory limit on every container, no lower than its memory request",
)  # fmt: skip
def memory_limit(snapshot, found):
    lacking = _containers_lacking(found, "limits", ["memory"])
    lacking += [
        f"{kind} {container.get('name')}: {problem}"
        for container, kind in containers(pod_spec(found))
        for problem in requests_above_limits(container)
    ]
    return result(
        "memory-limit", "A memory limit", not lacking,
        expected="every container has a memory limit, no lower than its request", actual=listing(lacking) or "all containers do",
        hint="An agent runs on every node, so a leak would hurt every node: set resources.limits.memory (e.g. 64Mi).",
        teaches="namespaces-quotas-requests#requests-and-limits",
    )  # fmt: skip


CHECKS = [daemonset_exists, ready_on_every_node, tolerates_control_plane, cpu_memory_requests, memory_limit]
WORKLOADS = [("DaemonSet", NAME)]
