"""Lab healthy-app: Deployment api with readiness and liveness probes on declared ports, requests, all Pods Ready."""

from .common import containers, exists_check, listing, pod_ready, pod_spec, quantity_problem, requires, result, spec

LESSON = "monitoring"
LAB = f"{LESSON}#lab-healthy-app"
NAME = "api"
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
PORT_HANDLERS = ("httpGet", "tcpSocket", "grpc")
# The probes the lab asks for; a startupProbe may run a command.
ON_A_PORT = ("readinessProbe", "livenessProbe")


deployment_exists = exists_check(
    "deployment-exists",
    "Deployment",
    NAME,
    hint="Apply a manifest with kind: Deployment and metadata.name: api.",
    teaches=LAB,
)


def _probe_check(check_id, title, field, hint):
    @requires("Deployment", NAME, check_id, title, teaches=LAB, looks_for=f"a `{field}` on every container")
    def check(snapshot, found):
        lacking = [
            container.get("name")
            for container, _ in containers(pod_spec(found), init=False)
            if not container.get(field)
        ]
        return result(
            check_id, title, not lacking, expected=f"a {field} on every container",
            actual=f"no {field} on {listing(lacking, ', ')}" if lacking else "every container has one",
            hint=hint, teaches=f"{LESSON}#health-probes",
        )  # fmt: skip

    check.__name__ = check_id.replace("-", "_")
    return check


readiness_probes = _probe_check(
    "readiness-probes", "Readiness probes", "readinessProbe",
    "Add readinessProbe (e.g. httpGet on /healthz): until it succeeds, the Pod gets no traffic from its Service.",
)  # fmt: skip
liveness_probes = _probe_check(
    "liveness-probes", "Liveness probes", "livenessProbe",
    "Add livenessProbe so the kubelet restarts a container that hangs; keep it cheap and independent of other services.",
)  # fmt: skip


@requires(
    "Deployment", NAME, "probe-ports-declared", "Probes check declared ports", teaches=LAB,
    looks_for="readiness and liveness probes that use `httpGet` or `tcpSocket` on a declared `containerPort` (by number "
    "or by name), or `grpc` on a declared port number",
)  # fmt: skip
def probe_ports_declared(snapshot, found):
    problems = []
    for container, _ in containers(pod_spec(found), init=False):
        ports = container.get("ports") or []
        numbers = {port.get("containerPort") for port in ports}
        names = {port.get("name") for port in ports if port.get("name")}
        for field in PROBES:
            probe = container.get(field)
            if not probe:
                continue
            targets = [(probe.get(handler) or {}).get("port") for handler in PORT_HANDLERS]
            targets = [port for port in targets if port is not None]
            # The lab asks for readiness and liveness on the app's port; a command proves nothing about what it serves.
            if not targets and field in ON_A_PORT:
                problems.append(f"{container.get('name')}: {field} checks no port (it runs a command)")
            # A grpc port that is not a number never gets here: the shape check refuses it.
            for port in targets:
                by_number = not isinstance(port, str) or (port.isascii() and port.isdigit())
                declared = int(port) in numbers if by_number else port in names
                if not declared:
                    problems.append(f"{container.get('name')}: {field} uses port {port}, which is not declared")
    return result(
        "probe-ports-declared", "Probes check declared ports", not problems,
        expected="readiness and liveness probes use httpGet or tcpSocket on a containerPort (by number or name), or grpc on "
        "a containerPort number",
        actual=listing(problems) or "all declared",
        hint="Point each probe at a port listed under the container's ports (containerPort, and a name if an httpGet or "
        "tcpSocket probe refers to it by name; a grpc probe takes the number only), and declare the port your app "
        "listens on.",
        teaches=f"{LESSON}#probe-mechanisms",
    )  # fmt: skip


@requires(
    "Deployment", NAME, "resource-requests", "CPU and memory requests", teaches=LAB,
    looks_for="cpu and memory requests on every container",
)  # fmt: skip
def resource_requests(snapshot, found):
    lacking = [
        f"{container.get('name')} has {problem}"
        for container, _ in containers(pod_spec(found))
        for name in ("cpu", "memory")
        if (problem := quantity_problem(container, "requests", name))
    ]
    return result(
        "resource-requests", "CPU and memory requests", not lacking,
        expected="cpu and memory requests on every container", actual=listing(lacking) or "all set",
        hint="Requests tell the scheduler what the app needs and give monitoring a baseline: set resources.requests.",
        teaches=f"{LESSON}#requests-feed-the-picture",
    )  # fmt: skip


@requires(
    "Deployment", NAME, "pods-ready", "All Pods Ready", teaches=LAB,
    looks_for="at least one replica, and every Pod of the Deployment Ready",
)  # fmt: skip
def pods_ready(snapshot, found):
    wanted = spec(found).get("replicas", 1)
    if wanted < 1:
        # 0 Ready of 0 wanted is not a healthy app: nothing runs to be healthy.
        return result(
            "pods-ready", "All Pods Ready", False,
            expected="at least 1 Ready Pod", actual=f"spec.replicas is {wanted}: nothing runs",
            hint="Set spec.replicas to 1 or more in the manifest (or leave it out: it defaults to 1) and apply it again, "
            "or run `kubectl scale deployment api --replicas=2`.",
            teaches=f"{LESSON}#health-probes",
        )  # fmt: skip
    pods = snapshot.pods_of(found)
    not_ready = [pod["metadata"]["name"] for pod in pods if not pod_ready(pod)]
    ready = len(pods) - len(not_ready)
    return result(
        "pods-ready", "All Pods Ready", ready >= wanted and not not_ready,
        expected=f"{wanted} Ready Pod{'s' if wanted != 1 else ''}", actual=f"{ready} Ready" + (f"; not ready: {listing(not_ready, ', ')}" if not_ready else ""),
        hint="`kubectl describe pod <name>` shows failing probes in its events; `kubectl logs <name> --previous` shows why a container restarted.",
        teaches=f"{LESSON}#health-probes",
    )  # fmt: skip


CHECKS = [deployment_exists, readiness_probes, liveness_probes, probe_ports_declared, resource_requests, pods_ready]
WORKLOADS = [("Deployment", NAME)]
