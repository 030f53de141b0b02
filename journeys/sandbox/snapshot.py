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

    def of_kind(self, kind):
        return list(self.objects.get(kind, {}).values())

    def get(self, kind, name):
        return self.objects.get(kind, {}).get(name)

    def count(self):
        return sum(len(items) for items in self.objects.values())

    def owned_by(self, kind, owner):
        """Objects of ``kind`` whose ownerReferences point at ``owner`` (by uid, else by kind and name)."""
        meta = owner.get("metadata") or {}
        uid, name, owner_kind = meta.get("uid"), meta.get("name"), owner.get("kind")
        found = []
        for item in self.of_kind(kind):
            for reference in (item.get("metadata") or {}).get("ownerReferences") or []:
                if (uid and reference.get("uid") == uid) or (
                    reference.get("kind") == owner_kind and reference.get("name") == name
                ):
                    found.append(item)
                    break
        return found

    def pods_of(self, workload):
        """The Pods a workload runs, following ReplicaSets for Deployments."""
        if workload.get("kind") == "Deployment":
            return [
                pod
                for replica_set in self.owned_by("ReplicaSet", workload)
                for pod in self.owned_by("Pod", replica_set)
            ]
        return self.owned_by("Pod", workload)
