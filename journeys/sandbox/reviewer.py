"""The reviewer's advice as a page shows it: one group per object, its container points beneath it.

Every piece of advice names where it belongs in ``object`` ("Deployment api" or "Deployment api,
container web", see ``checks.advisories.container_location``), so the object and the container are
named once, as headings, and each point says only what to change. Works on a fresh report's
Advisory objects and on a stored run's dictionaries alike.
"""

from dataclasses import dataclass, field


@dataclass
class ContainerAdvice:
    kind: str  # "container" or "init container"
    name: str
    points: list = field(default_factory=list)


@dataclass
class ObjectAdvice:
    kind: str
    name: str
    points: list = field(default_factory=list)
    containers: list = field(default_factory=list)

    def container(self, kind, name):
        found = next((item for item in self.containers if (item.kind, item.name) == (kind, name)), None)
        if found is None:
            found = ContainerAdvice(kind=kind, name=name)
            self.containers.append(found)
        return found


@dataclass
class ReviewerAdvice:
    objects: list = field(default_factory=list)
    # Advice about no one object, such as how much more there is.
    notes: list = field(default_factory=list)


def _field(advice, name):
    return advice.get(name, "") if isinstance(advice, dict) else getattr(advice, name, "")


def _split_container(where):
    """("init container", "setup") from "init container setup"; the kind is one or two words."""
    for kind in ("init container", "container"):
        if where.startswith(kind + " "):
            return kind, where[len(kind) + 1 :]
    return "", where


def advice_groups(advisories):
    """The advice of a report grouped per object, in the order it was given."""
    grouped, by_object = ReviewerAdvice(), {}
    for advice in advisories if isinstance(advisories, (list, tuple)) else []:
        message, where = str(_field(advice, "message")), str(_field(advice, "object") or "")
        if not where:
            grouped.notes.append(message)
            continue
        workload, _, container = where.partition(", ")
        kind, _, name = workload.partition(" ")
        group = by_object.get(workload)
        if group is None:
            group = by_object[workload] = ObjectAdvice(kind=kind, name=name)
            grouped.objects.append(group)
        if container:
            container_kind, container_name = _split_container(container)
            if container_kind:
                group.container(container_kind, container_name).points.append(message)
                continue
        group.points.append(message)
    return grouped
