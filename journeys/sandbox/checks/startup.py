"""Lab fix-probes (break and fix): Deployment inventory is restarted before it can start, and never Ready.

The app warms up for about 20 seconds before it listens. The starting manifest's liveness probe gives it
5 seconds, so the kubelet kills it over and over; its readiness probe asks for a path the app does not
serve. The checks want the probes kept (not deleted to silence them), enough time to start before
liveness judges, probes that ask the app for a page it serves, and Ready Pods.
"""

from .common import container_named, exists_check, listing, requires, result, shortened
from .repairs import pods_ready_check, same_app_check

LESSON = "monitoring"
LAB = f"{LESSON}#lab-fix-probes"
NAME = "inventory"
CONTAINER = "inventory"
APP_PORT = 8080
HEALTH_PATH = "/healthz"
# The app needs about 20 s before it answers; ask for some room above that.
START_ALLOWANCE_SECONDS = 30
# What Kubernetes assumes when a probe leaves a field out.
PROBE_DEFAULTS = {"initialDelaySeconds": 0, "periodSeconds": 10, "failureThreshold": 3}
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


deployment_exists = exists_check(
    "deployment-exists",
    "Deployment",
    NAME,
    hint="Apply the starting manifest of this lab (`kubectl apply -f fix-probes.yaml`), then fix it.",
    teaches=LAB,
)


def _setting(probe, field):
    value = probe.get(field, PROBE_DEFAULTS[field])
    return value if isinstance(value, int) and not isinstance(value, bool) else PROBE_DEFAULTS[field]


def allowance(probe):
    """Roughly how long a probe lets a container start before it gives up: delay + threshold * period."""
    return _setting(probe, "initialDelaySeconds") + _setting(probe, "failureThreshold") * _setting(
        probe, "periodSeconds"
    )


@requires(
    "Deployment", NAME, "probes-kept", "Readiness and liveness probes stay", teaches=LAB,
    looks_for=f"container `{CONTAINER}` still with a `readinessProbe` and a `livenessProbe`: fixed, not removed",
)  # fmt: skip
def probes_kept(snapshot, found):
    container = container_named(found, CONTAINER) or {}
    lacking = [field for field in ("readinessProbe", "livenessProbe") if not container.get(field)]
    return result(
        "probes-kept", "Readiness and liveness probes stay", bool(container) and not lacking,
        expected=f"a readinessProbe and a livenessProbe on container {CONTAINER}",
        actual=(f"no {' and no '.join(lacking)}" if lacking else "both there") if container else f"no container {CONTAINER}",
        hint="Deleting a failing probe hides the problem: without readiness the Service sends traffic to a Pod that "
        "cannot answer yet, and without liveness a hung app is never restarted. Put them back and fix them.",
        teaches=f"{LESSON}#health-probes",
    )  # fmt: skip


@requires(
    "Deployment", NAME, "time-to-start", "Time to start before liveness judges", teaches=LAB,
    looks_for=f"at least {START_ALLOWANCE_SECONDS} s before a failing probe can restart the container: a "
    "`startupProbe` whose `initialDelaySeconds` + `failureThreshold` × `periodSeconds` reaches that, or, without "
    "one, a `livenessProbe` that waits as long",
)  # fmt: skip
def time_to_start(snapshot, found):
    container = container_named(found, CONTAINER) or {}
    startup, liveness = container.get("startupProbe"), container.get("livenessProbe")
    judge = startup or liveness
    seconds = allowance(judge) if judge else None
    which = "startupProbe" if startup else "livenessProbe"
    return result(
        "time-to-start", "Time to start before liveness judges",
        seconds is not None and seconds >= START_ALLOWANCE_SECONDS,
        expected=f"{START_ALLOWANCE_SECONDS} s or more before the first restart",
        actual=f"{which} allows about {seconds} s" if seconds is not None else "no startup or liveness probe",
        hint="The app needs about 20 seconds before it listens. Add a startupProbe on the same endpoint (for example "
        "periodSeconds: 5 and failureThreshold: 12, a minute at most): until it succeeds, the kubelet runs no "
        "liveness or readiness probe, so a slow start is not mistaken for a hang.",
        teaches=f"{LESSON}#timing",
    )  # fmt: skip


def _probe_problems(container):
    ports = {port.get("name"): port.get("containerPort") for port in container.get("ports") or [] if port.get("name")}
    problems = []
    for field in PROBES:
        probe = container.get(field)
        if not probe:
            continue
        http, tcp = probe.get("httpGet"), probe.get("tcpSocket")
        handler = http or tcp
        if not handler:
            problems.append(f"{field} checks no port (use httpGet or tcpSocket)")
            continue
        port = handler.get("port")
        number = ports.get(port) if isinstance(port, str) and not port.isdigit() else port
        if str(number) != str(APP_PORT):
            problems.append(f"{field} asks port {shortened(port, 20)}, not {APP_PORT}")
        path = str((http or {}).get("path", "/")).split("?", 1)[0]
        if http and path != HEALTH_PATH:
            problems.append(f"{field} asks for {shortened(path, 40)}, which the app does not serve")
    return problems


@requires(
    "Deployment", NAME, "probes-reach-the-app", "Probes ask the app something it answers", teaches=LAB,
    looks_for=f"every probe on port `{APP_PORT}` (by number or by the name of that port), and every `httpGet` "
    f"asking for `{HEALTH_PATH}`, the page the app serves",
)  # fmt: skip
def probes_reach_the_app(snapshot, found):
    container = container_named(found, CONTAINER)
    problems = _probe_problems(container) if container else [f"no container {CONTAINER}"]
    return result(
        "probes-reach-the-app", "Probes ask the app something it answers", not problems,
        expected=f"httpGet {HEALTH_PATH} (or tcpSocket) on port {APP_PORT}", actual=listing(problems) or "all do",
        hint="`kubectl describe pod` shows what a failing probe got back: `statuscode: 404` is a path the app does not "
        "serve, `connection refused` a port nothing listens on. The app serves /healthz on 8080.",
        teaches=f"{LESSON}#probe-mechanisms",
    )  # fmt: skip


same_app = same_app_check(
    "Deployment", NAME, CONTAINER, "busybox", teaches=LAB, lab_anchor=LAB, markers=("sleep 20", "httpd"),
    looks_for=f"container `{CONTAINER}` still running `busybox`, still warming up for 20 seconds (`sleep 20`) and "
    "serving with `httpd`: the slow start is the app's, so the probes must allow for it",
)  # fmt: skip
pods_ready = pods_ready_check("Deployment", NAME, teaches="troubleshooting#failing-probes", lab_anchor=LAB)


CHECKS = [deployment_exists, probes_kept, time_to_start, probes_reach_the_app, same_app, pods_ready]
WORKLOADS = [("Deployment", NAME)]
