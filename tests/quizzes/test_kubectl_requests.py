"""kubectl itself as the judge: two commands match exactly when kubectl sends the same requests for both.

Each command runs with the kubectl that journeys/quizzes/kubectl_flags.json was made from, against a small
recording API server on 127.0.0.1 (discovery for a few groups, objects made up on request), with a
kubeconfig and cache of its own. What it sent (method, path, query, body), what it printed on stdout,
its exit code and its error message (less klog's deprecation warnings) must be equal for a pair the
grading accepts, and differ for a pair it refuses. Skipped, naming what it found, without that kubectl.
"""

import json
import re
import shlex
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from journeys.quizzes.kubectl_command import commands_match, parse_kubectl
from tests.quizzes.test_kubectl_flags import kubectl_the_data_came_from

pytestmark = pytest.mark.slow

# group → [(plural, kind, short names, namespaced, categories)]
API = {
    "": [
        ("pods", "Pod", ["po"], True, ["all"]),
        ("services", "Service", ["svc"], True, ["all"]),
        ("configmaps", "ConfigMap", ["cm"], True, []),
        ("resourcequotas", "ResourceQuota", ["quota"], True, []),
        ("namespaces", "Namespace", ["ns"], False, []),
    ],
    "apps": [("deployments", "Deployment", ["deploy"], True, ["all"])],
    "batch": [("jobs", "Job", [], True, ["all"]), ("cronjobs", "CronJob", ["cj"], True, ["all"])],
    "rbac.authorization.k8s.io": [("roles", "Role", [], True, [])],
    "authorization.k8s.io": [("selfsubjectaccessreviews", "SelfSubjectAccessReview", [], False, [])],
}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CONTAINER = {"name": "app", "image": "nginx:1.27"}
NOT_FOUND = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404, "reason": "NotFound"}


def _resources(group):
    found = []
    for plural, kind, shorts, namespaced, categories in API[group]:
        entry = {"name": plural, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind, "verbs": VERBS}
        found.append(
            entry | ({"shortNames": shorts} if shorts else {}) | ({"categories": categories} if categories else {})
        )
        if plural == "pods":
            found.append({"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]})
    return found


def _discovery(path):
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/apis":
        groups = [
            {"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}]}
            | {"preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"}}
            for group in API
            if group
        ]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    for group in API:
        version = f"{group}/v1" if group else "v1"
        if path == ("/api/v1" if not group else f"/apis/{group}/v1"):
            return {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": version,
                "resources": _resources(group),
            }
    if path == "/version":
        return {"major": "1", "minor": "37", "gitVersion": "v1.37.1"}
    return None


def _target(path):
    """(group, plural, kind, namespace, name, subresource) of a resource path, or None."""
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = "default"
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    for plural, kind, *_ in API.get(group, []):
        if rest and rest[0] == plural:
            name = rest[1] if len(rest) > 1 else None
            return group, plural, kind, namespace, name, rest[2] if len(rest) > 2 else None
    return None


def _object(group, kind, namespace, name):
    version = f"{group}/v1" if group else "v1"
    metadata = {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "1"}
    metadata |= {"creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"app": name}}
    applied = {"apiVersion": version, "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    metadata["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied)}
    body = {"apiVersion": version, "kind": kind, "metadata": metadata}
    template = {"metadata": {"labels": {"app": name}}, "spec": {"containers": [CONTAINER]}}
    if kind == "Pod":
        body["spec"] = {"containers": [CONTAINER]}
        body["status"] = {"phase": "Running"}
    elif kind == "Deployment":
        body["spec"] = {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}
    elif kind == "CronJob":
        job = {"template": {"spec": {"containers": [CONTAINER], "restartPolicy": "Never"}}}
        body["spec"] = {"schedule": "0 2 * * *", "jobTemplate": {"spec": job}}
    return body


class RecordingServer:
    """Answers kubectl and records each run's requests, told apart by the path its server URL has."""

    def __init__(self):
        self.requests, self.deleted, self.lock = {}, set(), threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                run, _, path = urlsplit(self.path).path.removeprefix("/").partition("/")  # /RUN/api/v1/...
                path, query = "/" + path, urlsplit(self.path).query
                code, body = server.answer(run, self.command, path, raw)
                if _discovery(path) is None:
                    entry = (self.command, path, sorted(parse_qsl(query)), raw.decode("latin-1"))
                    with server.lock:
                        server.requests.setdefault(run, []).append(entry)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain" if isinstance(body, bytes) else "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, run, method, path, raw):
        found = _discovery(path)
        if found is not None:
            return 200, found
        target = _target(path)
        if target is None:
            return 404, NOT_FOUND
        group, _plural, kind, namespace, name, subresource = target
        if method == "POST":
            try:
                body = json.loads(raw)
            except ValueError:
                return 201, {"kind": kind, "apiVersion": "authorization.k8s.io/v1", "status": {"allowed": True}}
            return 201, body | ({"status": {"allowed": True}} if kind == "SelfSubjectAccessReview" else {})
        if subresource == "log":
            return 200, b"a log line\n"
        if name is None:
            version = f"{group}/v1" if group else "v1"
            items = [_object(group, kind, namespace, "web-0")] if kind == "Pod" else []
            return 200, {
                "kind": f"{kind}List",
                "apiVersion": version,
                "metadata": {"resourceVersion": "1"},
                "items": items,
            }
        with self.lock:
            if method == "DELETE":
                self.deleted.add((run, path))  # gone for this run, which then waits for it to go
            elif (run, path) in self.deleted:
                return 404, {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": 404,
                    "reason": "NotFound",
                }
        return 200, _object(group, kind, namespace, name)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"


KLOG_LINE = re.compile(r"^[IWE]\d{4} ")


@pytest.fixture(scope="module")
def kubectl():
    return kubectl_the_data_came_from()


@pytest.fixture(scope="module")
def api():
    with RecordingServer() as server:
        yield server


def run(kubectl, api, folder, command, index):
    """What kubectl did for `command`: its requests, stdout, exit code and error message."""
    home = folder / f"run-{index}"
    (home / "work").mkdir(parents=True)
    (home / "work" / "-").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-a-file\n")
    name = f"run-{index}"
    (home / "kubeconfig").write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"{api.url}/{name}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
                "current-context": "c",
            }
        )
    )
    args = [*shlex.split(command)[1:], "--kubeconfig", str(home / "kubeconfig"), "--cache-dir", str(home / "cache")]
    env = {"HOME": str(home), "PATH": "/nonexistent", "KUBECTL_KUBERC": "false", "LANG": "C"}
    result = subprocess.run(
        [kubectl, *args],
        input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=home / "work",
        env=env,
    )
    error = [line for line in result.stderr.splitlines() if not KLOG_LINE.match(line)]
    return api.requests.get(name, []), result.stdout, result.returncode, error


# (typed, accepted): whether they match is asked of the grading and of kubectl alike.
PAIRS = [
    # Command words keep their case.
    ("kubectl GET pods -n shop", "kubectl get pods -n shop"),
    ("kubectl config USE-CONTEXT c", "kubectl config use-context c"),
    # Short names, categories and groups keep their case; plural names and kinds do not.
    ("kubectl get PO -n shop", "kubectl get pods -n shop"),
    ("kubectl get PODS -n shop", "kubectl get pods -n shop"),
    ("kubectl get Pod -n shop", "kubectl get po -n shop"),
    ("kubectl get ALL -n shop", "kubectl get all -n shop"),
    ("kubectl describe QUOTA team -n shop", "kubectl describe resourcequota team -n shop"),
    ("kubectl describe ResourceQuota team -n shop", "kubectl describe quota team -n shop"),
    ("kubectl get deployment.APPS api -n shop", "kubectl get deployment api -n shop"),
    ("kubectl get DEPLOY.apps api -n shop", "kubectl get deployment api -n shop"),
    ("kubectl get deploy.apps api -n shop", "kubectl get deployment api -n shop"),
    ("kubectl get Deployment.v1.apps api -n shop", "kubectl get deploy api -n shop"),
    (
        "kubectl create job b-1 --from=CJ/backup -n ops --dry-run=server",
        "kubectl create job b-1 --from=cronjob/backup -n ops --dry-run=server",
    ),
    (
        "kubectl create job b-1 --from=CronJob/backup -n ops --dry-run=server",
        "kubectl create job b-1 --from=cj/backup -n ops --dry-run=server",
    ),
    # can-i: the verb as typed, the resource lower-cased.
    ("kubectl auth can-i LIST pods -n team-a", "kubectl auth can-i list pods -n team-a"),
    ("kubectl auth can-i list PO -n team-a", "kubectl auth can-i list pods -n team-a"),
    # delete: --force, --grace-period and --now.
    ("kubectl delete pod example-1 --force -n shop", "kubectl delete pod example-1 --grace-period=0 --force -n shop"),
    ("kubectl delete pod example-2 --grace-period=0 -n shop", "kubectl delete pod example-2 --now -n shop"),
    ("kubectl delete pod example-3 --force --grace-period=5 -n shop", "kubectl delete pod example-3 --force -n shop"),
    (
        "kubectl delete pod example-4 --grace-period=0 -n shop",
        "kubectl delete pod example-4 --grace-period=0 --force -n shop",
    ),
    # Defaults given, and given where they matter.
    (
        "kubectl apply view-last-applied deployment/web -n shop -o yaml",
        "kubectl apply view-last-applied deployment/web -n shop",
    ),
    ("kubectl get deployment web -n shop -o yaml", "kubectl get deployment web -n shop"),
    (
        "kubectl create deployment web --image=nginx:1.27 --replicas=1 --dry-run=client -o yaml",
        "kubectl create deployment web --image=nginx:1.27 --dry-run=client -o yaml",
    ),
    ("kubectl scale deployment web --replicas=0 -n shop", "kubectl scale deployment web -n shop"),
    ("kubectl logs -l app=web --tail=-1 -n shop", "kubectl logs -l app=web -n shop"),
    ("kubectl logs web-0 --tail=-1 -n shop", "kubectl logs web-0 -n shop"),
    # StringSlice, StringArray.
    (
        "kubectl create role r --verb=get --verb=list --resource=pods --dry-run=client -o yaml",
        "kubectl create role r --verb=get,list --resource=pods --dry-run=client -o yaml",
    ),
    (
        "kubectl create configmap c --from-literal=a=1,b=2 --dry-run=client -o yaml",
        "kubectl create configmap c --from-literal=a=1 --from-literal=b=2 --dry-run=client -o yaml",
    ),
    (
        "kubectl create role r --verb=get --resource=PO --dry-run=client -o yaml",
        "kubectl create role r --verb=get --resource=pods --dry-run=client -o yaml",
    ),
    (
        "kubectl create role r --verb=get --resource=Pod --dry-run=client -o yaml",
        "kubectl create role r --verb=get --resource=po --dry-run=client -o yaml",
    ),
    # Templates and booleans.
    (
        "kubectl get deployment api -n shop -o jsonpath --template={.spec.template.spec.containers[0].image}",
        "kubectl get deployment api -n shop -o jsonpath={.spec.template.spec.containers[0].image}",
    ),
    (
        "kubectl get deployment api -n shop -o jsonpath={$.spec.template.spec.containers[0].image}",
        "kubectl get deployment api -n shop -o jsonpath={.spec.template.spec.containers[0].image}",
    ),
    ("kubectl get deployment api -n shop -o jsonpath={$}", "kubectl get deployment api -n shop -o jsonpath={.}"),
    (
        "kubectl create deployment web --image=nginx:1.27 --dry-run=True -o yaml",
        "kubectl create deployment web --image=nginx:1.27 --dry-run=client -o yaml",
    ),
    (
        "kubectl create deployment web --image=nginx:1.27 --dry-run=Client -o yaml",
        "kubectl create deployment web --image=nginx:1.27 --dry-run=client -o yaml",
    ),
    # A file named "-" is not standard input.
    ("kubectl apply -f ./- -n shop --validate=false", "kubectl apply -f - -n shop --validate=false"),
    ("kubectl apply --filename=- -n shop --validate=false", "kubectl apply -f - -n shop --validate=false"),
]


def test_the_grading_agrees_with_kubectl_on_every_pair(kubectl, api, tmp_path):
    commands = [command for pair in PAIRS for command in pair]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda item: run(kubectl, api, tmp_path, item[1], item[0]), enumerate(commands)))
    disagreements = []
    for index, (typed, accepted) in enumerate(PAIRS):
        same = results[2 * index] == results[2 * index + 1]
        if commands_match(typed, accepted) != same:
            disagreements.append(
                f"{typed!r} vs {accepted!r}: kubectl {'the same' if same else 'differs'} "
                f"({results[2 * index]!r} / {results[2 * index + 1]!r}); grading: "
                f"{parse_kubectl(typed)} / {parse_kubectl(accepted)}"
            )
    assert not disagreements, "\n".join(disagreements)


def test_the_pairs_cover_both_answers():
    answers = {commands_match(typed, accepted) for typed, accepted in PAIRS}
    assert answers == {True, False}
