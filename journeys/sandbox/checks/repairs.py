"""What the break-and-fix labs share: reading why a Pod is not running, and telling a fix from a replacement.

A break-and-fix lab hands the learner a broken workload. Its checks confirm the state a fix reaches (the
Pods run and are Ready) and that it was the broken workload that got fixed: the same app, still as
hardened as it was, rather than something else that happens to pass.
"""

from .common import (
    condition,
    containers,
    listing,
    metadata,
    pod_ready,
    pod_spec,
    requires,
    result,
    shortened,
    spec,
)

# Waiting reasons that are part of a normal start, not a problem to report.
STARTING = {"ContainerCreating", "PodInitializing"}


def image_repository(image):
    """`registry/name` of an image reference, without its tag or digest: `busybox:1.36` → `busybox`."""
    name = str(image).split("@", 1)[0]
    last_slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > last_slash else name


def image_tag(image):
    """The tag of an image reference, or "" (none, or pinned by digest only)."""
    name = str(image).split("@", 1)[0]
    colon = name.rfind(":")
    return name[colon + 1 :] if colon > name.rfind("/") else ""


def container_troubles(status):
    """Why one container (from a Pod's containerStatuses) is not serving, in words, or ""."""
    state, last = status.get("state") or {}, status.get("lastState") or {}
    waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
    previous = last.get("terminated") or {}
    name = shortened(status.get("name", "?"), 40)
    parts = []
    if waiting.get("reason") and waiting.get("reason") not in STARTING:
        message = waiting.get("message")
        parts.append(f"waiting: {waiting['reason']}" + (f" ({shortened(message, 90)})" if message else ""))
    elif terminated:
        parts.append(f"terminated: {terminated.get('reason') or 'exit code ' + str(terminated.get('exitCode', '?'))}")
    elif state.get("running") is not None and status.get("ready") is False:
        parts.append("running but not Ready")
    if previous.get("reason") or previous.get("exitCode") is not None:
        reason = previous.get("reason") or "exited"
        parts.append(f"last ended {reason} (exit code {previous.get('exitCode', '?')})")
    if not parts:
        return ""
    restarts = status.get("restartCount") or 0
    return f"container {name} " + ", ".join(parts) + (f", {restarts} restarts" if restarts else "")


def pod_troubles(pod):
    """Why a Pod is not Ready, in words: unscheduled, a container waiting or crashing, a probe failing."""
    name = shortened(metadata(pod).get("name", "?"), 60)
    scheduled = condition(pod, "PodScheduled")
    if scheduled is not None and str(scheduled.get("status")) == "False":
        message = scheduled.get("message") or scheduled.get("reason") or "not scheduled"
        return f"{name} is Pending: {shortened(message, 160)}"
    status = pod.get("status") or {}
    found = [
        trouble
        for item in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or [])
        if (trouble := container_troubles(item))
    ]
    if found:
        return f"{name}: {'; '.join(found)}"
    return f"{name} is not Ready ({status.get('phase') or 'no status'})"


def replica_failure(workload):
    """The message of a Deployment's ReplicaFailure condition: why its ReplicaSet could not create Pods."""
    failed = condition(workload, "ReplicaFailure")
    if failed is None or str(failed.get("status")) != "True":
        return ""
    return shortened(failed.get("message") or failed.get("reason") or "", 200)


def pods_ready_check(kind, name, *, teaches, lab_anchor):
    """The check every break-and-fix lab ends with: the workload runs, and each of its Pods is Ready.

    A file of manifests holds no Pods, so this is the check a pasted manifest cannot pass: it reads what
    the cluster reports (the Pods' conditions and container statuses), and names what is wrong with each.
    """

    @requires(
        kind, name, "pods-ready", "Every Pod Ready", teaches=lab_anchor,
        looks_for=f"at least one replica, and every Pod of {kind} `{name}` Ready (read from the cluster or "
        "your `kubectl get` output, Pods included)",
    )  # fmt: skip
    def pods_ready(snapshot, found):
        wanted = spec(found).get("replicas", 1)
        pods = snapshot.pods_of(found)
        troubles = [pod_troubles(pod) for pod in pods if not pod_ready(pod)]
        ready = len(pods) - len(troubles)
        if wanted < 1:
            actual = f"spec.replicas is {wanted}: nothing runs"
        elif troubles:
            actual = f"{ready} of {len(pods)} Ready; " + listing(troubles)
        elif not pods:
            failure = replica_failure(found)
            actual = f"no Pods: {failure}" if failure else "no Pods of this Deployment in what was read"
        else:
            actual = f"{ready} Ready of {wanted} wanted"
        return result(
            "pods-ready", "Every Pod Ready", wanted >= 1 and not troubles and ready >= wanted,
            expected=f"{max(wanted, 1)} Ready Pod{'s' if max(wanted, 1) != 1 else ''}", actual=actual,
            hint="Read what Kubernetes says about the Pod: `kubectl describe pod <name>` (its Events at the end), "
            "`kubectl logs <name> --previous` after a restart, and `kubectl events --types=Warning`. "
            "If you pasted output, include the Pods: `kubectl get deployment,replicaset,pod -o yaml`.",
            teaches=teaches,
        )  # fmt: skip

    return pods_ready


def same_app_check(kind, name, container_name, repository, *, looks_for, teaches, lab_anchor, markers=()):
    """The broken workload was repaired, not swapped for another app: its container still runs ``repository``
    and its command still holds each of ``markers`` (the part of the app the fix must keep)."""

    @requires(kind, name, "same-app", "Still the same app", teaches=lab_anchor, looks_for=looks_for)
    def same_app(snapshot, found):
        by_name = {container.get("name"): container for container, _ in containers(pod_spec(found))}
        container = by_name.get(container_name)
        if container is None:
            problems = [f"no container named {container_name} (containers: {listing(by_name, ', ') or 'none'})"]
        else:
            image = container.get("image", "")
            script = " ".join(str(part) for part in (container.get("command") or []) + (container.get("args") or []))
            problems = [] if image_repository(image) == repository else [f"it runs {shortened(image, 80)}"]
            problems += [f"its command no longer contains {marker}" for marker in markers if marker not in script]
        return result(
            "same-app", "Still the same app", not problems,
            expected=f"container {container_name} with a {repository} image"
            + (f" and a command containing {', '.join(markers)}" if markers else ""),
            actual=listing(problems) or f"container {container_name} runs {shortened(container.get('image', ''), 80)}",
            hint="Repair the manifest you were given rather than replacing what it runs: keep the container, its image "
            "and its command, change only what is broken, and apply it again.",
            teaches=teaches,
        )  # fmt: skip

    return same_app
