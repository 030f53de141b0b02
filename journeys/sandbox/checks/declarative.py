"""Lab declarative-frontend: Deployment frontend (≥ 2 replicas, available), made with kubectl apply, not changed by hand since."""

from ..reading import ReadError, parse_json
from ..shapes import object_problems
from .common import condition_true, exists_check, listing, metadata, pod_spec, requires, result, spec, status

LESSON = "declarative-configuration"
LAB = f"{LESSON}#lab-declarative-frontend"
NAME = "frontend"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CLIENT_SIDE_APPLY_MANAGER = "kubectl-client-side-apply"
# Field managers that kubectl's imperative commands write under.
IMPERATIVE_MANAGERS = {
    "kubectl-edit": "kubectl edit",
    "kubectl-patch": "kubectl patch",
    "kubectl-scale": "kubectl scale",
    "kubectl-set": "kubectl set",
    "kubectl-run": "kubectl run",
    "kubectl-create": "kubectl create",
    "kubectl-replace": "kubectl replace",
    "kubectl-label": "kubectl label",
    "kubectl-annotate": "kubectl annotate",
    "kubectl-rollout": "kubectl rollout",
    "kubectl-autoscale": "kubectl autoscale",
    "kubectl-expose": "kubectl expose",
}


def last_applied(obj):
    """The configuration `kubectl apply` recorded, or None (absent or unreadable).

    The annotation is text inside the object, so the shape check has not seen what it holds: it is
    read within the same bounds as a paste and checked as an object of its own before use.
    """
    text = (metadata(obj).get("annotations") or {}).get(LAST_APPLIED)
    if not text:
        return None
    try:
        applied = parse_json(text)
    except ReadError:
        return None
    if not isinstance(applied, dict):
        return None
    applied.setdefault("kind", obj.get("kind"))
    applied.setdefault("metadata", {"name": metadata(obj).get("name")})
    # Checked with the live object's shape: a record of another kind is not this object's record.
    if applied["kind"] != obj.get("kind") or object_problems(applied).total:
        return None
    return applied


def applied_how(obj):
    """'client-side apply', 'server-side apply' or None."""
    if last_applied(obj) is not None:
        return "client-side apply"
    for entry in metadata(obj).get("managedFields") or []:
        if entry.get("operation") == "Apply":
            return "server-side apply"
    return None


def imperative_changes(obj):
    """Reasons to think the live object was changed by hand since it was applied."""
    reasons = []
    for entry in metadata(obj).get("managedFields") or []:
        command = IMPERATIVE_MANAGERS.get(entry.get("manager", ""))
        if command and entry.get("operation") == "Update":
            reasons.append(f"`{command}` changed it at {entry.get('time', 'an unknown time')}")
    applied = last_applied(obj)
    if applied is not None:
        applied_spec = applied.get("spec") or {}
        if "replicas" in applied_spec and applied_spec["replicas"] != spec(obj).get("replicas", 1):
            reasons.append(
                f"replicas is {spec(obj).get('replicas', 1)} live but {applied_spec['replicas']} in the applied file"
            )
        applied_images = {
            container.get("name"): container.get("image")
            for container in ((applied_spec.get("template") or {}).get("spec") or {}).get("containers") or []
        }
        for container in pod_spec(obj).get("containers") or []:
            wanted = applied_images.get(container.get("name"))
            if wanted and wanted != container.get("image"):
                reasons.append(
                    f"container {container.get('name')} runs {container.get('image')} but the applied file says {wanted}"
                )
    return reasons


deployment_exists = exists_check(
    "deployment-exists",
    "Deployment",
    NAME,
    hint="Write frontend.yaml with kind: Deployment and metadata.name: frontend, then `kubectl apply -f frontend.yaml`.",
    teaches=f"{LESSON}#declarative-object-configuration",
)


@requires(
    "Deployment", NAME, "replicas", "At least two replicas", teaches=LAB, looks_for="`spec.replicas` of 2 or more"
)
def replicas(snapshot, found):
    count = spec(found).get("replicas", 1)
    return result(
        "replicas", "At least two replicas", count >= 2, expected="spec.replicas of 2 or more", actual=f"spec.replicas: {count}",
        hint="Change replicas in your file and apply the file again; do not use `kubectl scale`.", teaches=LAB,
    )  # fmt: skip


@requires(
    "Deployment", NAME, "available", "Available", teaches=LAB,
    looks_for="the Deployment Available, with at least 2 replicas available (its status counts)",
)  # fmt: skip
def available(snapshot, found):
    count = status(found).get("availableReplicas", 0)
    return result(
        "available", "Available", count >= 2 and condition_true(found, "Available"),
        expected="condition Available with at least 2 available replicas", actual=f"{count} available",
        hint="`kubectl rollout status deployment/frontend` waits for it; `kubectl describe pods -l <your label>` shows why a Pod is not ready.",
        teaches=LAB,
    )  # fmt: skip


@requires(
    "Deployment", NAME, "created-with-apply", "Created with kubectl apply", teaches=LAB,
    looks_for="the traces `kubectl apply` leaves: the last-applied annotation, or a server-side apply entry",
)  # fmt: skip
def created_with_apply(snapshot, found):
    how = applied_how(found)
    return result(
        "created-with-apply", "Created with kubectl apply", how is not None,
        expected="the last-applied-configuration annotation or a server-side apply field manager",
        actual=f"made with {how}" if how else "no sign of kubectl apply (it was created imperatively)",
        hint="Delete the Deployment and create it again with `kubectl apply -f frontend.yaml`.",
        teaches=f"{LESSON}#how-apply-records-intent",
    )  # fmt: skip


@requires(
    "Deployment", NAME, "not-changed-imperatively", "Not changed by hand since", teaches=LAB,
    looks_for="no change since the last apply: replicas and images as applied, no `kubectl scale`, `edit`, `set` "
    "or `patch` in its history",
)  # fmt: skip
def not_changed_imperatively(snapshot, found):
    reasons = imperative_changes(found)
    return result(
        "not-changed-imperatively", "Not changed by hand since", not reasons,
        expected="the live Deployment matches the applied file, and no imperative kubectl command changed it",
        actual=listing(reasons) or "no imperative change found",
        hint="Put the change in frontend.yaml and run `kubectl apply -f frontend.yaml`. To clear the record of an "
        "imperative command, delete the Deployment and apply the file again.",
        teaches=f"{LESSON}#the-danger-of-drift",
    )  # fmt: skip


CHECKS = [deployment_exists, replicas, available, created_with_apply, not_changed_imperatively]
WORKLOADS = [("Deployment", NAME)]
