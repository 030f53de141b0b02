"""Lab fix-hardened-web (break and fix): Deployment notes crashes once hardened; it must run again, still hardened.

The starting manifest runs nginx with a read-only root filesystem and nowhere to write its temporary
files, so the container exits at start. The fix is a writable emptyDir at /tmp; the checks make sure
the hardening was kept rather than switched off to make the crash go away.
"""

from .common import containers, exists_check, listing, pod_spec, requires, result
from .repairs import pods_ready_check, same_app_check

LESSON = "serviceaccounts-and-rbac"
LAB = f"{LESSON}#lab-fix-hardened-web"
SECURITY = f"{LESSON}#security-contexts-and-pod-security-standards"
NAME = "notes"
CONTAINER = "web"
WRITABLE_PATH = "/tmp"  # noqa: S108 - a path inside the learner's container, not a file of ours


deployment_exists = exists_check(
    "deployment-exists",
    "Deployment",
    NAME,
    hint="Apply the starting manifest of this lab (`kubectl apply -f fix-hardened-web.yaml`), then fix it.",
    teaches=LAB,
)


def hardening_gaps(found):
    """Every container setting the starting manifest had and the fix must keep, where it is missing."""
    pod = pod_spec(found)
    pod_security = pod.get("securityContext") or {}
    pod_seccomp = (pod_security.get("seccompProfile") or {}).get("type")
    gaps = []
    for container, kind in containers(pod):
        security = container.get("securityContext") or {}
        where = f"{kind} {container.get('name')}"
        non_root = security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))
        seccomp = (security.get("seccompProfile") or {}).get("type") or pod_seccomp
        dropped = (security.get("capabilities") or {}).get("drop") or []
        if non_root is not True:
            gaps.append(f"{where}: runAsNonRoot is not true")
        if security.get("readOnlyRootFilesystem") is not True:
            gaps.append(f"{where}: readOnlyRootFilesystem is not true")
        if security.get("allowPrivilegeEscalation") is not False:
            gaps.append(f"{where}: allowPrivilegeEscalation is not false")
        if "ALL" not in dropped:
            gaps.append(f"{where}: capabilities.drop does not include ALL")
        if seccomp != "RuntimeDefault":
            gaps.append(f"{where}: seccompProfile is {seccomp or 'not set'}, not RuntimeDefault")
    return gaps


@requires(
    "Deployment", NAME, "still-hardened", "The hardening stays", teaches=LAB,
    looks_for="every container still with `runAsNonRoot: true`, `readOnlyRootFilesystem: true`, "
    "`allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]` and the `RuntimeDefault` seccomp profile "
    "(set on the container or, where Kubernetes allows it, the Pod)",
)  # fmt: skip
def still_hardened(snapshot, found):
    gaps = hardening_gaps(found)
    return result(
        "still-hardened", "The hardening stays", not gaps,
        expected="the security context of the starting manifest, unchanged", actual=listing(gaps) or "all kept",
        hint="Turning a protection off makes the crash go away and leaves the hole open. Put the setting back and "
        "give the app what it needs instead: a writable place for its temporary files.",
        teaches=SECURITY,
    )  # fmt: skip


@requires(
    "Deployment", NAME, "writable-tmp", "A writable /tmp", teaches=LAB,
    looks_for=f"container `{CONTAINER}` mounting an `emptyDir` volume at `{WRITABLE_PATH}`, where nginx keeps its "
    "pid file and temporary files",
)  # fmt: skip
def writable_tmp(snapshot, found):
    pod = pod_spec(found)
    empty_dirs = {volume.get("name") for volume in pod.get("volumes") or [] if "emptyDir" in volume}
    mounts, problems = [], []
    for container, _ in containers(pod, init=False):
        if container.get("name") != CONTAINER:
            continue
        for mount in container.get("volumeMounts") or []:
            if str(mount.get("mountPath", "")).rstrip("/") == WRITABLE_PATH:
                mounts.append(mount.get("name"))
    if not mounts:
        problems.append(f"container {CONTAINER} mounts nothing at {WRITABLE_PATH}")
    elif not set(mounts) & empty_dirs:
        problems.append(f"the volume mounted at {WRITABLE_PATH} ({listing(mounts, ', ')}) is not an emptyDir")
    return result(
        "writable-tmp", "A writable /tmp", not problems,
        expected=f"an emptyDir volume mounted at {WRITABLE_PATH} in container {CONTAINER}",
        actual=listing(problems) or f"emptyDir {mounts[0]} at {WRITABLE_PATH}",
        hint="Add `volumes: [{name: tmp, emptyDir: {}}]` to the pod template and `volumeMounts: [{name: tmp, "
        "mountPath: /tmp}]` to the container. The root filesystem stays read-only; only that directory is writable.",
        teaches=f"{LESSON}#a-read-only-root-filesystem",
    )  # fmt: skip


same_app = same_app_check(
    "Deployment", NAME, CONTAINER, "nginxinc/nginx-unprivileged", teaches=LAB, lab_anchor=LAB,
    looks_for=f"container `{CONTAINER}` still running the `nginxinc/nginx-unprivileged` image: the web server you "
    "were given, repaired rather than replaced",
)  # fmt: skip
pods_ready = pods_ready_check("Deployment", NAME, teaches="troubleshooting#crashloopbackoff", lab_anchor=LAB)


CHECKS = [deployment_exists, still_hardened, writable_tmp, same_app, pods_ready]
WORKLOADS = [("Deployment", NAME)]
