"""Lab fix-orders (break and fix): Deployment orders has three faults that show one after the other.

First its image cannot be pulled (a tag that was never published: ErrImagePull, ImagePullBackOff). Once
it can, the app exits at start because a setting it needs is not passed from its ConfigMap
(CrashLoopBackOff; `kubectl logs --previous` says which). Once it has that, it is killed while loading
its data because its memory limit is too small (OOMKilled, exit code 137). The checks confirm each fix
and that the app itself was kept.
"""

from ..quantities import quantity_between
from .common import container_named, exists_check, listing, requires, resource, result, shortened
from .repairs import image_repository, image_tag, pods_ready_check, same_app_check

LESSON = "troubleshooting"
LAB = f"{LESSON}#lab-fix-orders"
NAME = "orders"
CONTAINER = "orders"
CONFIG_MAP = "orders-config"
SETTING = "ORDERS_DB_URL"
REPOSITORY = "busybox"
UNPUBLISHED_TAG = "1.63"
# The app loads 40 MiB at start; a shell and httpd add a little. 64Mi leaves room, 1Gi is not a limit any more.
MEMORY_LIMIT = ("64Mi", "1Gi")


deployment_exists = exists_check(
    "deployment-exists",
    "Deployment",
    NAME,
    hint="Apply the starting manifest of this lab (`kubectl apply -f fix-orders.yaml`), then fix it.",
    teaches=LAB,
)


@requires(
    "Deployment", NAME, "image-pullable", "An image tag that exists", teaches=LAB,
    looks_for=f"container `{CONTAINER}` on a pinned `{REPOSITORY}` tag other than `{UNPUBLISHED_TAG}`, which was "
    "never published (the Pods' status then shows no `ErrImagePull` or `ImagePullBackOff`)",
)  # fmt: skip
def image_pullable(snapshot, found):
    container = container_named(found, CONTAINER)
    image = (container or {}).get("image", "")
    tag = image_tag(image)
    problems = []
    if container is None:
        problems.append(f"no container {CONTAINER}")
    elif image_repository(image) != REPOSITORY:
        problems.append(f"the image is {shortened(image, 80)}, not {REPOSITORY}")
    elif tag == UNPUBLISHED_TAG:
        problems.append(f"{REPOSITORY}:{UNPUBLISHED_TAG} does not exist in the registry")
    elif tag in ("", "latest"):
        problems.append(f"{shortened(image, 80)} names no fixed version")
    return result(
        "image-pullable", "An image tag that exists", not problems,
        expected=f"{REPOSITORY} with a published, fixed tag", actual=listing(problems) or f"{shortened(image, 80)}",
        hint="`kubectl describe pod` shows the pull error in its events (`manifest unknown` or `not found`): the tag "
        f"{UNPUBLISHED_TAG} was never published. The team runs busybox 1.36; pin that tag and apply again.",
        teaches=f"{LESSON}#imagepullbackoff-and-errimagepull",
    )  # fmt: skip


def _setting_sources(container):
    """Where the container's ORDERS_DB_URL comes from: ConfigMap names, and whether it is typed in directly."""
    from_maps, typed = set(), False
    for variable in container.get("env") or []:
        if variable.get("name") != SETTING:
            continue
        reference = (variable.get("valueFrom") or {}).get("configMapKeyRef") or {}
        if reference.get("key") == SETTING and reference.get("name"):
            from_maps.add(reference["name"])
        elif "value" in variable:
            typed = True
    for source in container.get("envFrom") or []:
        reference = source.get("configMapRef") or {}
        if reference.get("name") and not source.get("prefix"):
            from_maps.add(reference["name"])
    return from_maps, typed


@requires(
    "Deployment", NAME, "setting-from-configmap", f"{SETTING} comes from its ConfigMap", teaches=LAB,
    looks_for=f"container `{CONTAINER}` getting `{SETTING}` from the ConfigMap `{CONFIG_MAP}` (with `envFrom` or "
    f"`valueFrom.configMapKeyRef`), and that ConfigMap holding the key",
)  # fmt: skip
def setting_from_configmap(snapshot, found):
    container = container_named(found, CONTAINER)
    config_map = snapshot.get("ConfigMap", CONFIG_MAP)
    problems = []
    if container is None:
        problems.append(f"no container {CONTAINER}")
    else:
        from_maps, typed = _setting_sources(container)
        if CONFIG_MAP not in from_maps:
            problems.append(
                f"{SETTING} is typed into the manifest, not read from {CONFIG_MAP}" if typed
                else f"{SETTING} is not passed to the container"
            )  # fmt: skip
    if config_map is None:
        problems.append(f"no ConfigMap {CONFIG_MAP}")
    elif SETTING not in (config_map.get("data") or {}):
        problems.append(f"ConfigMap {CONFIG_MAP} has no key {SETTING}")
    return result(
        "setting-from-configmap", f"{SETTING} comes from its ConfigMap", not problems,
        expected=f"{SETTING} from ConfigMap {CONFIG_MAP}", actual=listing(problems) or f"from {CONFIG_MAP}",
        hint="`kubectl logs <pod> --previous` shows what the app said before it exited. The value is in the ConfigMap "
        f"the starting manifest created: pass it with `envFrom: [{{configMapRef: {{name: {CONFIG_MAP}}}}}]` rather "
        "than copying it into the Deployment, so it is kept in one place.",
        teaches=f"{LESSON}#crashloopbackoff",
    )  # fmt: skip


@requires(
    "Deployment", NAME, "memory-fits", "A memory limit the app fits in", teaches=LAB,
    looks_for=f"container `{CONTAINER}` with a memory limit between `{MEMORY_LIMIT[0]}` and `{MEMORY_LIMIT[1]}` "
    "(it loads about 40 MiB at start) and a memory request no higher than the limit",
)  # fmt: skip
def memory_fits(snapshot, found):
    container = container_named(found, CONTAINER)
    problems = []
    if container is None:
        problems.append(f"no container {CONTAINER}")
    else:
        limit, request = resource(container, "limits", "memory"), resource(container, "requests", "memory")
        if limit is None:
            problems.append("no memory limit")
        elif not quantity_between(limit, *MEMORY_LIMIT):
            problems.append(f"a memory limit of {shortened(limit, 20)}, not between {' and '.join(MEMORY_LIMIT)}")
        if request is None:
            problems.append("no memory request")
        elif limit is not None and not quantity_between(request, "0", limit):
            problems.append(f"a memory request ({shortened(request, 20)}) above the limit")
    return result(
        "memory-fits", "A memory limit the app fits in", not problems,
        expected=f"a memory limit of {MEMORY_LIMIT[0]} to {MEMORY_LIMIT[1]}", actual=listing(problems) or "it fits",
        hint="`kubectl describe pod` shows `Last State: Terminated, Reason: OOMKilled, Exit Code: 137`: the kernel "
        "killed the container for going over its memory limit. Raise the limit above what the app uses at its peak "
        "(about 40 MiB, so 64Mi or more), keeping the request no higher than the limit.",
        teaches=f"{LESSON}#oomkilled-exit-code-137",
    )  # fmt: skip


same_app = same_app_check(
    "Deployment", NAME, CONTAINER, REPOSITORY, teaches=LAB, lab_anchor=LAB, markers=("bs=40M", "httpd"),
    looks_for=f"container `{CONTAINER}` still running `{REPOSITORY}`, still loading its 40 MiB at start (`bs=40M`) "
    "and serving with `httpd`: the app you were given, repaired rather than trimmed",
)  # fmt: skip
pods_ready = pods_ready_check("Deployment", NAME, teaches=f"{LESSON}#a-method-from-symptom-to-cause", lab_anchor=LAB)


CHECKS = [deployment_exists, image_pullable, setting_from_configmap, memory_fits, same_app, pods_ready]
WORKLOADS = [("Deployment", NAME)]
