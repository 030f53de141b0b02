"""Lab team-quota: ResourceQuota team-quota, a LimitRange with container defaults, and every container sized."""

from ..quantities import QuantityError, parse_quantity
from ..snapshot import WORKLOAD_KINDS
from .common import (
    containers,
    exists_check,
    has_quantity,
    listing,
    metadata,
    pod_spec,
    requests_above_limits,
    requires,
    result,
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
)
def quota_covers_resources(snapshot, found):
    hard_values = spec(found).get("hard") or {}
    absent = [key for key, spellings in QUOTA_KEYS.items() if not set(hard_values) & spellings]
    problems = [f"missing {', '.join(absent)}"] if absent else []
    problems += quota_value_problems(hard_values)
    return result(
        "quota-covers-resources", "The quota caps CPU, memory and Pods", not problems,
        expected="spec.hard with " + ", ".join(QUOTA_KEYS) + ", each limit at least its request",
        actual="; ".join(problems) or "all five set",
        hint="Set all five keys under spec.hard, e.g. limits.cpu: \"4\" and pods: \"20\", and keep each limits value at least "
        "the matching requests value: a container's limit is never below its request, so room for requests beyond the "
        "limits value could never be used.",
        teaches=f"{LESSON}#resourcequota",
    )  # fmt: skip


def quota_value_problems(hard):
    """Values compared as quantities: `limits.cpu: "2"` under `requests.cpu: 2500m` can never be used."""
    problems = []
    for name in ("cpu", "memory"):
        request = hard.get(f"requests.{name}", hard.get(name))
        limit = hard.get(f"limits.{name}")
        try:
            if request is not None and limit is not None and parse_quantity(limit) < parse_quantity(request):
                problems.append(f"limits.{name} ({limit}) is below requests.{name} ({request})")
        except QuantityError:
            problems.append(f"the {name} values are not valid quantities")
    return problems


def limitrange_defaults(snapshot):
    ranges = snapshot.of_kind("LimitRange")
    good = []
    for limit_range in ranges:
        for item in spec(limit_range).get("limits") or []:
            defaults, default_requests = item.get("default") or {}, item.get("defaultRequest") or {}
            if item.get("type") == "Container" and {"cpu", "memory"} <= set(default_requests) and "memory" in defaults:
                good.append(metadata(limit_range).get("name"))
    names = listing((metadata(item).get("name") for item in ranges), ", ")
    return result(
        "limitrange-defaults", "A LimitRange gives containers defaults", bool(good),
        expected="a LimitRange limit of type Container with defaultRequest cpu and memory, and default memory",
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


def containers_declare_resources(snapshot):
    holders = declared_holders(snapshot)
    lacking = []
    for holder in holders:
        for container, kind in containers(pod_spec(holder)):
            absent = [
                label for section, name, label in (
                    ("requests", "cpu", "cpu request"), ("requests", "memory", "memory request"), ("limits", "memory", "memory limit"),
                ) if not has_quantity(container, section, name)
            ]  # fmt: skip
            where = f"{holder['kind']} {metadata(holder).get('name')}, {kind} {container.get('name')}"
            if absent:
                lacking.append(f"{where}: no {', '.join(absent)}")
            lacking += [f"{where}: {problem}" for problem in requests_above_limits(container)]
    if lacking:
        actual = listing(lacking)
    else:
        actual = f"all {len(holders)} workloads declare them" if holders else "no workloads to check"
    if holders:
        hint = (
            "Set resources in each container of your manifests, init containers included, and apply them again. "
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
