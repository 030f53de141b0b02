"""The objects of one namespace, indexed by kind and name, whatever source they came from."""

from dataclasses import dataclass, field

# Kinds a pod template lives in, and where.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet")


@dataclass
class Snapshot:
    namespace: str
    objects: dict = field(default_factory=dict)  # kind → {name: object}
    # Kinds the source could not read (e.g. a ClusterRole the portal may not get), kind → reason.
    unreadable: dict = field(default_factory=dict)
    # kind → {owner uid or (owner kind, owner name): [objects]}, built once per kind when first asked.
    _owners: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_objects(cls, namespace, items):
        snapshot = cls(namespace=namespace)
        for item in items:
            snapshot.add(item)
        return snapshot

    def add(self, item):
        kind = item.get("kind", "")
        name = (item.get("metadata") or {}).get("name", "")
        self.objects.setdefault(kind, {})[name] = item
        self._owners.pop(kind, None)

    def of_kind(self, kind):
        return list(self.objects.get(kind, {}).values())

    def get(self, kind, name):
        return self.objects.get(kind, {}).get(name)

    def count(self):
        return sum(len(items) for items in self.objects.values())

    def owned_by(self, kind, owner):
        """Objects of ``kind`` whose ownerReferences point at ``owner`` (by uid, else by kind and name)."""
        meta = owner.get("metadata") or {}
        index = self._owner_index(kind)
        found = {id(item): item for item in index.get((owner.get("kind"), meta.get("name")), ())}
        if meta.get("uid"):
            found.update((id(item), item) for item in index.get(meta["uid"], ()))
        return list(found.values())

    def _owner_index(self, kind):
        # One pass over the kind's objects and their references: asking for the Pods of each of
        # thousands of ReplicaSets costs a lookup each, not a scan of every Pod.
        if kind not in self._owners:
            index = {}
            for item in self.of_kind(kind):
                for reference in (item.get("metadata") or {}).get("ownerReferences") or []:
                    for key in filter(None, (reference.get("uid"), (reference.get("kind"), reference.get("name")))):
                        bucket = index.setdefault(key, [])
                        if not bucket or bucket[-1] is not item:
                            bucket.append(item)
            self._owners[kind] = index
        return self._owners[kind]

    def pods_of(self, workload):
        """The Pods a workload runs, following ReplicaSets for Deployments."""
        if workload.get("kind") == "Deployment":
            return [
                pod
                for replica_set in self.owned_by("ReplicaSet", workload)
                for pod in self.owned_by("Pod", replica_set)
            ]
        return self.owned_by("Pod", workload)
