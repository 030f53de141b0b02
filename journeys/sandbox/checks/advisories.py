"""What a production reviewer would say about a workload: advice shown apart from pass/fail, never blocking."""

from ..report import Advisory
from ..snapshot import WORKLOAD_KINDS
from .common import containers, has_quantity, metadata, pod_spec

LONG_RUNNING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}
# A namespace of thousands of workloads would otherwise produce a page of thousands of lines.
ADVICE_SHOWN = 20


# Docker Hub's official images a learner meets in the lessons, with a tag each really has: the
# advice shows a pin for the learner's own image, never a made-up tag for an image we do not know.
KNOWN_TAGS = {
    "alpine": "3.20",
    "busybox": "1.36",
    "debian": "12",
    "golang": "1.23",
    "httpd": "2.4",
    "memcached": "1.6",
    "mysql": "8.4",
    "nginx": "1.27",
    "nginxinc/nginx-unprivileged": "1.27",
    "node": "22",
    "perl": "5.40",
    "postgres": "16",
    "python": "3.12",
    "redis": "7.4",
    "ubuntu": "24.04",
    "registry.k8s.io/e2e-test-images/agnhost": "2.39",
}
DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def image_untagged(image):
    """True for `nginx` and `nginx:latest`; a digest or a real tag is fine."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def image_repository(image):
    """The image without its tag or digest: `nginx:latest` → `nginx`, `localhost:5000/app` stays."""
    image = image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def pinned_example(image):
    """The learner's own image with a tag that exists (`busybox` → `busybox:1.36`), or None when unknown."""
    repository = image_repository(image)
    known = repository
    for registry in DOCKER_HUB:
        known = known.removeprefix(registry)
    known = known.removeprefix("library/")
    tag = KNOWN_TAGS.get(known)
    return f"{repository}:{tag}" if tag else None


def image_advice(image):
    """Why and how to pin ``image``, naming the learner's image rather than somebody else's."""
    if not image:
        return "No `image` set: give it one with a specific tag or digest."
    repository = image_repository(image)
    moving = (
        f"`{image}` is a moving tag" if image.endswith(":latest") else f"`{image}` has no tag, so it means `:latest`"
    )
    example = pinned_example(image)
    pin = f"pin a version, such as `{example}`" if example else f"pin a specific tag or digest of `{repository}`"
    return (
        f"{moving} (and makes `imagePullPolicy` default to `Always`): {pin}, "
        "so every node runs the same code and a rollout can be undone."
    )


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


def container_location(label, container_kind, container_name):
    """Where container advice belongs: the workload, then the container (see ``advice_groups``)."""
    return f"{label}, {container_kind} {container_name}"


def workload_advisories(snapshot, workload, bound_accounts=None):
    kind, name = workload.get("kind"), metadata(workload).get("name")
    label = f"{kind} {name}"
    spec = pod_spec(workload)
    pod_security = spec.get("securityContext") or {}
    advice = []

    # Each message is one point under its object's heading: the object is named there, once.
    def add(advisory_id, message, target=label):
        advice.append(Advisory(id=advisory_id, message=message, object=target))

    for container, container_kind in containers(spec):
        where = container_location(label, container_kind, container.get("name"))
        security = container.get("securityContext") or {}
        image = container.get("image", "")
        if image_untagged(image):
            add("image-tag", image_advice(image), where)
        if container_kind == "container" and kind in LONG_RUNNING:
            if not container.get("readinessProbe"):
                add(
                    "readiness-probe",
                    "No `readinessProbe`: add one so Services send it traffic only once it can answer.",
                    where,
                )
            if not container.get("livenessProbe"):
                add(
                    "liveness-probe",
                    "No `livenessProbe`: add one so the kubelet restarts it when it hangs.",
                    where,
                )
        missing = [
            f"`resources.{section}.{name}`" for section, name in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
            if not has_quantity(container, section, name)
        ]  # fmt: skip
        if missing:
            listed = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
            # Requests are what the scheduler reserves; the memory limit is what stops a leak.
            reasons = ["the scheduler reserves room for it on a node"] if "requests" in " ".join(missing) else []
            reasons += ["a memory leak cannot starve the rest of the node"] if "limits" in missing[-1] else []
            add(
                "resources",
                f"No {listed}: set {'it' if len(missing) == 1 else 'them'} so {' and '.join(reasons)}.",
                where,
            )
        if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
            add(
                "run-as-non-root",
                "May run as root: set `securityContext.runAsNonRoot: true` "
                "(with a numeric `runAsUser` unless the image already runs as a numeric non-root user).",
                where,
            )
        if security.get("allowPrivilegeEscalation") is not False:
            add(
                "allow-privilege-escalation",
                "Set `securityContext.allowPrivilegeEscalation: false` so no process can gain more privileges "
                "than it started with.",
                where,
            )
        if security.get("readOnlyRootFilesystem") is not True:
            add(
                "read-only-root-filesystem",
                "Writable root filesystem: set `securityContext.readOnlyRootFilesystem: true` "
                "and mount an `emptyDir` volume where it must write.",
                where,
            )
    account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    if bound_accounts is None:
        bound_accounts = bound_service_accounts(snapshot)
    if spec.get("automountServiceAccountToken") is not False and account not in bound_accounts:
        add(
            "token-automount",
            f"Its Pods get an API token for the ServiceAccount `{account}`, which no RoleBinding names, "
            "so they do not seem to call the Kubernetes API: set `automountServiceAccountToken: false` in the pod spec.",
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
