"""Lab team-quota: ResourceQuota team-quota, a LimitRange with container defaults, and every container sized."""

from ..quantities import QuantityError, non_negative_quantity, parse_quantity
from ..snapshot import WORKLOAD_KINDS
from .common import (
    containers,
    described,
    exists_check,
    listing,
    metadata,
    pod_spec,
    quantity_problem,
    requests_above_limits,
    requires,
    result,
    shortened,
    spec,
)

LESSON = "namespaces-quotas-requests"
LAB = f"{LESSON}#lab-team-quota"
NAME = "team-quota"
# `cpu` and `memory` in a quota are the older spelling of requests.cpu and requests.memory.
QUOTA_KEYS = {
    "requests.cpu": {"requests.cpu", "cpu"},
    "requests.memory": {"requests.memory", "memory"},
    "limits.cpu": {"limits.cpu"},
    "limits.memory": {"limits.memory"},
    "pods": {"pods"},
}
# Resources a quota counts in whole objects: the API server refuses `pods: 1.5` or `pods: 500m`.
INTEGER_RESOURCES = {
    "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
    "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
}  # fmt: skip


quota_exists = exists_check(
    "quota-exists",
    "ResourceQuota",
    NAME,
    hint="Apply a manifest with kind: ResourceQuota and metadata.name: team-quota.",
    teaches=f"{LESSON}#resourcequota",
)


@requires(
    "ResourceQuota",
    NAME,
    "quota-covers-resources",
    "The quota caps CPU, memory and Pods",
    teaches=LAB,
    hint="Create the quota first.",
    looks_for="hard limits for `requests.cpu`, `requests.memory`, `limits.cpu`, `limits.memory` and `pods`, each "
    "limits value at least the matching requests value",
)
def quota_covers_resources(snapshot, found):
    hard_values = spec(found).get("hard") or {}
    absent = [key for key, spellings in QUOTA_KEYS.items() if not set(hard_values) & spellings]
    problems = [f"missing {', '.join(absent)}"] if absent else []
    problems += hard_value_problems(hard_values) + quota_value_problems(hard_values)
    return result(
        "quota-covers-resources", "The quota caps CPU, memory and Pods", not problems,
        expected="spec.hard with " + ", ".join(QUOTA_KEYS) + ", each a quantity of 0 or more and each limit at least "
        "its request",
        actual=listing(problems) or "all five set",
        hint="Set all five keys under spec.hard, e.g. limits.cpu: \"4\" and pods: \"20\", each a quantity such as 2, 500m "
        "or 4Gi (never negative; pods a whole number), and keep each limits value at least the matching requests "
        "value: a container's limit is never below its request, so room for requests beyond the limits value could "
        "never be used.",
        teaches=f"{LESSON}#resourcequota",
    )  # fmt: skip


def hard_value_problems(hard):
    """Every spec.hard value as the API server checks it: a quantity, not negative, whole for counted objects."""
    problems = []
    for key, value in hard.items():
        shown = f"{shortened(key)} ({shortened(value, 30)})"
        try:
            number = parse_quantity(value)
        except QuantityError:
            problems.append(f"{shown} is not a quantity")
            continue
        if number < 0:
            problems.append(f"{shown} is negative")
        elif key in INTEGER_RESOURCES and number != number.to_integral_value():
            problems.append(f"{shown} is not a whole number")
    return problems


def quota_value_problems(hard):
    """Values compared as quantities: `limits.cpu: "2"` under `requests.cpu: 2500m` can never be used.

    Values that are not quantities are left to hard_value_problems, which names them.
    """
    problems = []
    for name in ("cpu", "memory"):
        request = hard.get(f"requests.{name}", hard.get(name))
        limit = hard.get(f"limits.{name}")
        if request is None or limit is None:
            continue
        try:
            if parse_quantity(limit) < parse_quantity(request):
                problems.append(f"limits.{name} ({limit}) is below requests.{name} ({request})")
        except QuantityError:
            continue
    return problems


@described(
    "limitrange-defaults", "A LimitRange gives containers defaults",
    "a LimitRange entry of `type: Container` with a `defaultRequest` for cpu and memory and a `default` memory limit",
)  # fmt: skip
def limitrange_defaults(snapshot):
    ranges = snapshot.of_kind("LimitRange")
    good = []
    for limit_range in ranges:
        for item in spec(limit_range).get("limits") or []:
            defaults, default_requests = item.get("default") or {}, item.get("defaultRequest") or {}
            # A default counts when the API server would take it: a quantity of 0 or more.
            requested = all(non_negative_quantity(default_requests.get(name)) is not None for name in ("cpu", "memory"))
            if (
                item.get("type") == "Container"
                and requested
                and non_negative_quantity(defaults.get("memory")) is not None
            ):
                good.append(metadata(limit_range).get("name"))
    names = listing((metadata(item).get("name") for item in ranges), ", ")
    return result(
        "limitrange-defaults", "A LimitRange gives containers defaults", bool(good),
        expected="a LimitRange limit of type Container with defaultRequest cpu and memory, and default memory, each a "
        "valid quantity",
        actual=f"defaults from {good[0]}" if good else (f"LimitRanges without those defaults: {names}" if names else "no LimitRange"),
        hint="Under spec.limits add an entry with type: Container, defaultRequest for cpu and memory, and default (the "
        "limit) for memory; a default cpu limit is worth adding too, as the quota caps limits.cpu. A container that "
        "forgets its requests then gets these instead of the quota rejecting its Pod.",
        teaches=f"{LESSON}#limitrange",
    )  # fmt: skip


def declared_holders(snapshot):
    """Objects whose pod spec the learner wrote: top-level workloads and bare Pods.

    Pods made by a controller are left out: a LimitRange may have filled in defaults there, and the
    lab asks for what the learner declared.
    """
    owned_kinds = {"ReplicaSet": "Deployment", "Job": "CronJob"}
    holders = []
    for kind in (*WORKLOAD_KINDS, "Pod"):
        for item in snapshot.of_kind(kind):
            owners = {reference.get("kind") for reference in metadata(item).get("ownerReferences") or []}
            if kind == "Pod" and owners:
                continue
            if owned_kinds.get(kind) in owners:
                continue
            holders.append(item)
    return holders


@described(
    "containers-declare-resources", "Every container declares requests and a memory limit",
    "at least one workload, and cpu and memory requests and a memory limit on every container and init container "
    "you declare (workload templates and bare Pods)",
)  # fmt: skip
def containers_declare_resources(snapshot):
    holders = declared_holders(snapshot)
    lacking = []
    for holder in holders:
        for container, kind in containers(pod_spec(holder)):
            absent = [
                problem for section, name in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
                if (problem := quantity_problem(container, section, name))
            ]  # fmt: skip
            where = f"{holder['kind']} {metadata(holder).get('name')}, {kind} {container.get('name')}"
            if absent:
                lacking.append(f"{where}: {', '.join(absent)}")
            lacking += [f"{where}: {problem}" for problem in requests_above_limits(container)]
    if lacking:
        actual = listing(lacking)
    else:
        actual = f"all {len(holders)} workloads declare them" if holders else "no workloads to check"
    if holders:
        hint = (
            "Set resources in each container of your manifests, init containers included, and apply them again. "
            "A Job's Pod template cannot be changed, so delete a Job such as pi first and then apply it. "
            "A LimitRange default fills the gap at runtime, but declaring what a container needs is part of the lab."
        )
    else:
        hint = (
            "Run at least one workload here, such as those from the earlier labs or the catalog Deployment of the "
            "reference manifest, with requests and a memory limit on every container."
        )
    return result(
        "containers-declare-resources", "Every container declares requests and a memory limit", not lacking and bool(holders),
        expected="at least one workload, and cpu and memory requests and a memory limit on every container and init "
        "container you declare",
        actual=actual, hint=hint,
        teaches=f"{LESSON}#requests-and-limits",
    )  # fmt: skip


CHECKS = [quota_exists, quota_covers_resources, limitrange_defaults, containers_declare_resources]
WORKLOADS = "all"
