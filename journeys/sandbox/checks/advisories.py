"""What a production reviewer would say about a workload: advice shown apart from pass/fail, never blocking."""

from ..report import Advisory
from ..snapshot import WORKLOAD_KINDS
from .common import containers, has_quantity, metadata, pod_spec

LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
# A namespace of thousands of workloads would otherwise produce a page of thousands of lines.
ADVICE_SHOWN = 20


def image_untagged(image):
    """True for `nginx` and `nginx:latest`; a digest or a real tag is fine."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def bound_service_accounts(snapshot):
    """ServiceAccounts some RoleBinding names: a workload running as one presumably calls the API.

    Gathered once per report: asking each of thousands of workloads to scan thousands of bindings
    would cost their product.
    """
    return {
        subject.get("name")
        for binding in snapshot.of_kind("RoleBinding")
        for subject in binding.get("subjects") or []
        if subject.get("kind") == "ServiceAccount"
    } - {"", "default"}


def workload_advisories(snapshot, workload, bound_accounts=None):
    kind, name = workload.get("kind"), metadata(workload).get("name")
    label = f"{kind} {name}"
    spec = pod_spec(workload)
    pod_security = spec.get("securityContext") or {}
    advice = []

    def add(advisory_id, message, target=label):
        advice.append(Advisory(id=advisory_id, message=message, object=target))

    for container, container_kind in containers(spec):
        where = f"{label}, {container_kind} {container.get('name')}"
        security = container.get("securityContext") or {}
        image = container.get("image", "")
        if image_untagged(image):
            add("image-tag", f"{where} uses the image {image or '(none)'} without a fixed tag; pin a version such as nginx:1.27 "
                "so every node runs the same code.", where)  # fmt: skip
        if container_kind == "container" and kind in LONG_RUNNING:
            if not container.get("readinessProbe"):
                add(
                    "readiness-probe",
                    f"{where} has no readinessProbe; add one so traffic only reaches it when it can answer.",
                    where,
                )
            if not container.get("livenessProbe"):
                add("liveness-probe", f"{where} has no livenessProbe; add one so a hung process gets restarted.", where)
        missing = [
            text for section, name, text in (
                ("requests", "cpu", "cpu request"), ("requests", "memory", "memory request"), ("limits", "memory", "memory limit"),
            ) if not has_quantity(container, section, name)
        ]  # fmt: skip
        if missing:
            add(
                "resources",
                f"{where} sets no {', '.join(missing)}; set resources so the scheduler can place it and a leak cannot starve the node.",
                where,
            )
        if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
            add(
                "run-as-non-root",
                f"{where} may run as root; set securityContext.runAsNonRoot: true (and a runAsUser if the image needs one).",
                where,
            )
        if security.get("allowPrivilegeEscalation") is not False:
            add(
                "allow-privilege-escalation",
                f"{where} does not set allowPrivilegeEscalation: false in its securityContext.",
                where,
            )
        if security.get("readOnlyRootFilesystem") is not True:
            add(
                "read-only-root-filesystem",
                f"{where} has a writable root filesystem; set readOnlyRootFilesystem: true and mount an emptyDir where it must write.",
                where,
            )
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if bound_accounts is None:
        bound_accounts = bound_service_accounts(snapshot)
    if spec.get("automountServiceAccountToken") is not False and account not in bound_accounts:
        add(
            "token-automount",
            f"{label} gets an API token mounted but does not seem to call the Kubernetes API; set automountServiceAccountToken: false in its pod spec.",
        )
    return advice


def advisories_for(snapshot, targets):
    """Advice for the lab's workloads: a list of (kind, name), "all", or "helm" (the release's workloads)."""
    if targets == "all":
        workloads = [item for kind in WORKLOAD_KINDS if kind != "ReplicaSet" for item in snapshot.of_kind(kind)]
    elif targets == "helm":
        from .helm import release_members

        workloads = [item for item in release_members(snapshot) if item.get("kind") in WORKLOAD_KINDS]
    else:
        workloads = [found for kind, name in targets if (found := snapshot.get(kind, name)) is not None]
    advice, objects_left = [], 0
    bound_accounts = bound_service_accounts(snapshot)
    for workload in workloads:
        if len(advice) >= ADVICE_SHOWN:
            objects_left += 1
            continue
        advice += workload_advisories(snapshot, workload, bound_accounts)
    if len(advice) > ADVICE_SHOWN or objects_left:
        hidden = len(advice) - ADVICE_SHOWN if len(advice) > ADVICE_SHOWN else 0
        advice = advice[:ADVICE_SHOWN]
        more = [f"{hidden:,} more pieces of advice on the workloads above"] if hidden else []
        more += [f"advice for {objects_left:,} more workload{'s' if objects_left != 1 else ''}"] if objects_left else []
        advice.append(Advisory(
            id="more-advice", status="info",
            message=f"… and {', and '.join(more)}. Act on the advice above and check again to see the rest.",
        ))  # fmt: skip
    return advice
