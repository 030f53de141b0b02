"""Lab helm-release: a release `demo` installed into the namespace, recognised from labels and annotations.

The portal never reads Secrets, so Helm's own release records are not consulted.
"""

from .common import described, listing, metadata, result

LESSON = "helm-charts"
LAB = f"{LESSON}#lab-helm-release"
RELEASE = "demo"
MANAGED_BY = "app.kubernetes.io/managed-by"
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def release_members(snapshot):
    members = []
    for items in snapshot.objects.values():
        for item in items.values():
            meta = metadata(item)
            if (meta.get("labels") or {}).get(MANAGED_BY) == "Helm" and (meta.get("annotations") or {}).get(
                RELEASE_NAME
            ) == RELEASE:
                members.append(item)
    return members


def _other_releases(snapshot):
    names = set()
    for items in snapshot.objects.values():
        for item in items.values():
            name = (metadata(item).get("annotations") or {}).get(RELEASE_NAME)
            if name and name != RELEASE:
                names.add(name)
    return names


@described(
    "release-objects", "Objects of the release demo",
    "objects labelled `app.kubernetes.io/managed-by: Helm` and annotated `meta.helm.sh/release-name: demo`",
)  # fmt: skip
def release_objects(snapshot):
    members = release_members(snapshot)
    others = _other_releases(snapshot)
    actual = (
        f"{len(members)} objects of release demo"
        if members
        else (f"objects of other releases: {listing(sorted(others), ', ')}" if others else "no object managed by Helm")
    )
    return result(
        "release-objects", "Objects of the release demo", bool(members),
        expected=f"objects labelled {MANAGED_BY}: Helm and annotated {RELEASE_NAME}: demo", actual=actual,
        hint="Install the chart under the release name demo: `helm install demo ./demo -n <your namespace>`.",
        teaches=f"{LESSON}#how-helm-tracks-what-it-manages",
    )  # fmt: skip


@described(
    "release-namespace", "Installed into this namespace",
    "`meta.helm.sh/release-namespace` naming this namespace on every object of the release",
)  # fmt: skip
def release_namespace(snapshot):
    members = release_members(snapshot)
    elsewhere = sorted({
        (metadata(item).get("annotations") or {}).get(RELEASE_NAMESPACE, "") for item in members
    } - {snapshot.namespace})  # fmt: skip
    return result(
        "release-namespace", "Installed into this namespace", bool(members) and not elsewhere,
        expected=f"{RELEASE_NAMESPACE}: {snapshot.namespace}",
        actual=f"{RELEASE_NAMESPACE}: {', '.join(elsewhere)}" if elsewhere else ("matches" if members else "no release objects"),
        hint="Pass -n <your namespace> to helm install, so the release and its objects live in your namespace.",
        teaches=f"{LESSON}#installing-off-the-shelf-software",
    )  # fmt: skip


@described(
    "release-workload",
    "The release runs a workload",
    "a Deployment, StatefulSet or DaemonSet among the release's objects",
)
def release_workload(snapshot):
    workloads = [item for item in release_members(snapshot) if item.get("kind") in WORKLOAD_KINDS]
    return result(
        "release-workload", "The release runs a workload", bool(workloads),
        expected="a Deployment, StatefulSet or DaemonSet from the release",
        actual=listing((f"{item['kind']} {metadata(item).get('name')}" for item in workloads), ", ") or "none",
        hint="The chart from `helm create demo` includes a Deployment; check `helm status demo -n <your namespace>`.",
        teaches=LAB,
    )  # fmt: skip


CHECKS = [release_objects, release_namespace, release_workload]
WORKLOADS = "helm"
