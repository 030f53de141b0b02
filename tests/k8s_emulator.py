"""An in-process stand-in for the Kubernetes API server, for tests.

Tests reach it through the real ``kubernetes`` client and a real kubeconfig file, so URL
building, the bearer-token header, JSON deserialisation and the client's error mapping are
all exercised rather than mocked away. Only reads are emulated: the portal inspects
clusters, it never changes them.

Typical use::

    def test_lists_pods(kube_emulator, kubeconfig):
        kube_emulator.add_namespace("team-a")
        kube_emulator.add({"kind": "Pod", "metadata": {"name": "web", "namespace": "team-a"}, ...})
        kube_emulator.fail(r"/namespaces/team-a/pods$", 403)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import socket
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

DEFAULT_TOKEN = "test-token"
DEFAULT_USER = "system:serviceaccount:kube-journeys:portal"


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    group: str
    version: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RESOURCES: tuple[Resource, ...] = (
    Resource("pods", "Pod", "", "v1", True),
    Resource("services", "Service", "", "v1", True),
    Resource("serviceaccounts", "ServiceAccount", "", "v1", True),
    Resource("configmaps", "ConfigMap", "", "v1", True),
    Resource("resourcequotas", "ResourceQuota", "", "v1", True),
    Resource("limitranges", "LimitRange", "", "v1", True),
    Resource("namespaces", "Namespace", "", "v1", False),
    Resource("nodes", "Node", "", "v1", False),
    Resource("deployments", "Deployment", "apps", "v1", True),
    Resource("statefulsets", "StatefulSet", "apps", "v1", True),
    Resource("daemonsets", "DaemonSet", "apps", "v1", True),
    Resource("replicasets", "ReplicaSet", "apps", "v1", True),
    Resource("jobs", "Job", "batch", "v1", True),
    Resource("cronjobs", "CronJob", "batch", "v1", True),
    Resource("roles", "Role", "rbac.authorization.k8s.io", "v1", True),
    Resource("rolebindings", "RoleBinding", "rbac.authorization.k8s.io", "v1", True),
    Resource("clusterroles", "ClusterRole", "rbac.authorization.k8s.io", "v1", False),
    Resource("clusterrolebindings", "ClusterRoleBinding", "rbac.authorization.k8s.io", "v1", False),
)
_BY_GROUP_PLURAL = {(r.group, r.plural): r for r in RESOURCES}
_BY_KIND = {r.kind: r for r in RESOURCES}

# Shaped like a real apiserver's answer so that VersionApi().get_code() deserialises.
VERSION_INFO = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-08-13T07:28:49Z",
    "goVersion": "go1.22.5",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "the server rejected our request for an unknown reason"),
    401: ("Unauthorized", "Unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("NotFound", "the server could not find the requested resource"),
    405: ("MethodNotAllowed", "the server does not allow this method on the requested resource"),
    409: ("Conflict", "the object has been modified; please apply your changes to the latest version and try again"),
    410: ("Expired", "too old resource version"),
    422: ("Invalid", "the request is invalid"),
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected failure"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted, but may still be processing the request",
    ),
}

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class RecordedRequest(NamedTuple):
    method: str
    path: str
    query: str

    @property
    def params(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.query, keep_blank_values=True).items()}


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    remaining: int | None


@dataclass
class _Fault(_Rule):
    status: int
    message: str | None
    reason: str | None
    retry_after: float | None


@dataclass
class _Delay(_Rule):
    seconds: float


@dataclass(frozen=True)
class _Target:
    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _parse_path(path: str) -> _Target | None:
    parts = [unquote(part) for part in path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    # "/api/v1/namespaces/x" is the Namespace object itself, not a scope prefix.
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if len(rest) not in (1, 2):
        return None
    return _Target(group, version, rest[0], namespace, rest[1] if len(rest) == 2 else None)


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def _default_error(code: int) -> tuple[str, str]:
    if code in _DEFAULT_ERRORS:
        return _DEFAULT_ERRORS[code]
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        return "Unknown", f"the server responded with status {code}"
    return phrase.replace(" ", "").replace("-", ""), phrase.lower()


def _details(target: _Target) -> dict:
    details = {}
    if target.name:
        details["name"] = target.name
    if target.group:
        details["group"] = target.group
    details["kind"] = target.plural
    return details


def _not_found_body(target: _Target | None) -> dict:
    if target is None or target.name is None:
        return status_body(404, "NotFound", _DEFAULT_ERRORS[404][1], {})
    return status_body(404, "NotFound", f'{target.qualified} "{target.name}" not found', _details(target))


class SelectorError(ValueError):
    pass


def _split_terms(selector: str) -> list[str]:
    # Commas separate requirements except inside "in (a,b)" value sets.
    terms, depth, current = [], 0, []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [term.strip() for term in terms if term.strip()]


_KEY = r"[A-Za-z0-9_./-]+"
_EQUALITY = re.compile(rf"^(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>[A-Za-z0-9_.-]*)$")
_SET = re.compile(rf"^(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_EXISTS = re.compile(rf"^(?P<neg>!?)\s*(?P<key>{_KEY})$")


def parse_label_selector(selector: str) -> Callable[[dict], bool]:
    """Turn a label selector into a predicate over a labels dict, with Kubernetes semantics
    (``a!=b`` and ``a notin (...)`` also match objects that lack ``a``)."""
    checks: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector):
        if match := _EQUALITY.match(term):
            key, op, value = match["key"], match["op"], match["value"]
            if op == "!=":
                checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif match := _SET.match(term):
            key, values = match["key"], {v.strip() for v in match["values"].split(",") if v.strip()}
            if match["op"] == "in":
                checks.append(lambda labels, k=key, vs=values: k in labels and labels[k] in vs)
            else:
                checks.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif match := _EXISTS.match(term):
            key, present = match["key"], not match["neg"]
            checks.append(lambda labels, k=key, p=present: (k in labels) == p)
        else:
            raise SelectorError(f"unable to parse requirement: {term!r}")
    return lambda labels: all(check(labels) for check in checks)


_FIELD_TERM = re.compile(r"^(?P<path>[A-Za-z0-9_.]+)\s*(?P<op>==|=|!=)\s*(?P<value>.*)$")


def parse_field_selector(selector: str) -> Callable[[dict], bool]:
    checks: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector):
        match = _FIELD_TERM.match(term)
        if not match:
            raise SelectorError(f"invalid field selector: {term!r}")
        path, negate, value = match["path"].split("."), match["op"] == "!=", match["value"]
        checks.append(lambda obj, p=path, n=negate, v=value: (_field(obj, p) == v) != n)
    return lambda obj: all(check(obj) for check in checks)


def _field(obj: Any, path: list[str]) -> str:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    if obj is None:
        return ""
    return str(obj).lower() if isinstance(obj, bool) else str(obj)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real apiserver, so the client's pool is exercised
    timeout = 30  # lets abandoned keep-alive threads end even if stop() is never called
    # Headers and body leave in two writes; with Nagle plus delayed ACKs that costs ~40 ms a request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        self.server.emulator._handle(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch  # noqa: N815 - names dictated by BaseHTTPRequestHandler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, emulator: KubeEmulator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        # shutdown() only stops accepting; idle keep-alive connections would otherwise
        # keep being served by a "stopped" emulator.
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (read timeout) leaves us writing into a closed socket;
        # that is the scenario under test, not an emulator bug worth a traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class KubeEmulator:
    """A read-only Kubernetes API server on 127.0.0.1, served from a daemon thread."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, user: str = DEFAULT_USER) -> None:
        self.token = token
        self.user = user
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._objects: dict[tuple[str, str, str], dict] = {}
        self._revision = 0
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> KubeEmulator:
        if self._server is not None:
            raise RuntimeError("emulator already started")
        self._stopping.clear()
        self._server = _Server(self)
        # shutdown() waits for the loop to notice; a short poll keeps fixture teardown quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="kube-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        # Wakes handlers parked in delay() so a long injected delay cannot outlive the test.
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> KubeEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("emulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- objects -----------------------------------------------------------------

    def add(self, obj: dict) -> dict:
        """Store (or replace) an object; returns the stored copy with server-side fields filled in."""
        kind = obj.get("kind")
        resource = _BY_KIND.get(kind)  # type: ignore[arg-type]
        if resource is None:
            raise ValueError(f"unsupported kind {kind!r}; supported: {', '.join(sorted(_BY_KIND))}")
        api_version = obj.get("apiVersion", resource.api_version)
        if api_version != resource.api_version:
            raise ValueError(f"{kind} is served as {resource.api_version!r}, not {api_version!r}")
        stored = json.loads(json.dumps(obj))  # deep copy that also proves the object is JSON-serialisable
        stored["apiVersion"] = api_version
        metadata = stored.setdefault("metadata", {})
        if not metadata.get("name"):
            raise ValueError(f"{kind} needs metadata.name")
        if resource.namespaced:
            metadata.setdefault("namespace", "default")
        else:
            # The real apiserver drops a namespace given to a cluster-scoped object.
            metadata.pop("namespace", None)
        with self._lock:
            self._revision += 1
            metadata.setdefault("uid", str(uuid.uuid4()))
            metadata.setdefault("resourceVersion", str(self._revision))
            metadata.setdefault("creationTimestamp", _now())
            self._objects[(resource.plural, metadata.get("namespace", ""), metadata["name"])] = stored
        return json.loads(json.dumps(stored))

    def add_many(self, objs: Iterable[dict]) -> list[dict]:
        return [self.add(obj) for obj in objs]

    def add_namespace(self, name: str, *, labels: dict[str, str] | None = None) -> dict:
        return self.add(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **(labels or {})}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        )

    def remove(self, kind: str, name: str, namespace: str = "default") -> bool:
        resource = _BY_KIND[kind]
        key = (resource.plural, namespace if resource.namespaced else "", name)
        with self._lock:
            self._revision += 1
            return self._objects.pop(key, None) is not None

    # -- faults ------------------------------------------------------------------

    def fail(
        self,
        path_pattern: str,
        status: int,
        message: str | None = None,
        reason: str | None = None,
        times: int | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        """Answer requests whose path matches ``path_pattern`` (re.search) with an error Status.

        The first matching fault wins; ``times`` limits how many requests it affects. A
        ``retry_after`` adds the header, which makes urllib3's default retry policy retry
        429/503 answers on its own.
        """
        if not 400 <= status <= 599:
            raise ValueError("fail() injects errors; status must be 4xx or 5xx")
        fault = _Fault(re.compile(path_pattern), times, status, message, reason, retry_after)
        with self._lock:
            self._faults.append(fault)

    def delay(self, path_pattern: str, seconds: float, times: int | None = None) -> None:
        """Sleep before answering matching requests; every matching delay adds up."""
        with self._lock:
            self._delays.append(_Delay(re.compile(path_pattern), times, seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    # -- observability -----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot, so callers can iterate while client threads keep arriving."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def request_count(self, path_pattern: str | None = None) -> int:
        if path_pattern is None:
            return len(self.requests)
        pattern = re.compile(path_pattern)
        return sum(1 for request in self.requests if pattern.search(request.path))

    # -- kubeconfig --------------------------------------------------------------

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        *,
        context: str = "sandbox",
        namespace: str | None = None,
        token: str | None = None,
        server: str | None = None,
    ) -> Path:
        """Write a kubeconfig for this emulator. ``token=""`` writes a user without credentials."""
        token = self.token if token is None else token
        # JSON strings are valid YAML double-quoted scalars, so no YAML library is needed.
        q = json.dumps
        lines = [
            "apiVersion: v1",
            "kind: Config",
            "preferences: {}",
            "clusters:",
            f"- name: {q(context)}",
            "  cluster:",
            f"    server: {q(server or self.url)}",
            "users:",
            f"- name: {q(context + '-user')}",
            f"  user:{f' {{token: {q(token)}}}' if token else ' {}'}",
            "contexts:",
            f"- name: {q(context)}",
            "  context:",
            f"    cluster: {q(context)}",
            f"    user: {q(context + '-user')}",
        ]
        if namespace:
            lines.append(f"    namespace: {q(namespace)}")
        lines.append(f"current-context: {q(context)}")
        target = Path(path)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return target

    # -- request handling ----------------------------------------------------------

    @staticmethod
    def _consume(rules: list, path: str, *, first_only: bool = False) -> list:
        matched = []
        for rule in list(rules):
            if not rule.pattern.search(path):
                continue
            matched.append(rule)
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
            if first_only:
                break
        return matched

    def _handle(self, handler: _Handler) -> None:
        method = handler.command
        url = urlsplit(handler.path)
        path = url.path
        self._discard_body(handler)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, url.query))
            delays = self._consume(self._delays, path)
            faults = self._consume(self._faults, path, first_only=True)
        for delay in delays:
            if self._stopping.wait(delay.seconds):
                handler.close_connection = True
                return
        headers: dict[str, str] = {}
        try:
            if faults:
                code, body = self._fault_response(faults[0], method, path)
                if faults[0].retry_after is not None:
                    headers["Retry-After"] = f"{faults[0].retry_after:g}"
            elif handler.headers.get("Authorization") != f"Bearer {self.token}":
                code, body = 401, status_body(401, "Unauthorized", "Unauthorized")
            elif method != "GET":
                code, body = 405, status_body(405, "MethodNotAllowed", _DEFAULT_ERRORS[405][1], {})
            else:
                code, body = self._get(path, parse_qs(url.query, keep_blank_values=True))
        except Exception as exc:  # noqa: BLE001 - an emulator bug must reach the test as a 500, not a hung socket
            self.errors.append(exc)
            code, body = 500, status_body(500, "InternalError", f"Internal error occurred: emulator bug: {exc!r}")
        self._send(handler, code, body, headers)

    @staticmethod
    def _discard_body(handler: _Handler) -> None:
        # Unread request bodies would be parsed as the next request on a keep-alive connection.
        if "chunked" in handler.headers.get("Transfer-Encoding", ""):
            handler.close_connection = True
            return
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)

    @staticmethod
    def _send(handler: _Handler, code: int, body: dict, headers: dict[str, str]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        try:
            handler.send_response(code)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Audit-Id", str(uuid.uuid4()))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
        except OSError:
            handler.close_connection = True

    def _fault_response(self, fault: _Fault, method: str, path: str) -> tuple[int, dict]:
        target = _parse_path(path)
        default_reason, default_message = _default_error(fault.status)
        reason = fault.reason or default_reason
        if fault.message is not None:
            details = _details(target) if target else None
            return fault.status, status_body(fault.status, reason, fault.message, details)
        if fault.status == 403:
            body = self._forbidden_body(method, path, target)
            body["reason"] = reason
            return 403, body
        if fault.status == 404:
            body = _not_found_body(target)
            body["reason"] = reason
            return 404, body
        if fault.status == 401:
            return 401, status_body(401, reason, default_message)
        return fault.status, status_body(fault.status, reason, default_message, _details(target) if target else {})

    def _forbidden_body(self, method: str, path: str, target: _Target | None) -> dict:
        verb = _VERBS.get(method, "get")
        if target is None:
            return status_body(403, "Forbidden", f'forbidden: User "{self.user}" cannot {verb} path "{path}"', {})
        if method == "GET":
            verb = "get" if target.name else "list"
        elif method == "DELETE" and not target.name:
            verb = "deletecollection"
        namespace = target.namespace
        if target.plural == "namespaces" and target.group == "" and target.name:
            # The apiserver authorises a Namespace read inside that namespace.
            namespace = target.name
        subject = f'{target.qualified} "{target.name}"' if target.name else target.qualified
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = (
            f'{subject} is forbidden: User "{self.user}" cannot {verb} resource "{target.plural}" '
            f'in API group "{target.group}" {scope}'
        )
        return status_body(403, "Forbidden", message, _details(target))

    def _get(self, path: str, params: dict[str, list[str]]) -> tuple[int, dict]:
        if path.rstrip("/") == "/version":
            return 200, dict(VERSION_INFO)
        target = _parse_path(path)
        resource = _BY_GROUP_PLURAL.get((target.group, target.plural)) if target else None
        if (
            target is None
            or resource is None
            or resource.version != target.version
            or (target.namespace is not None and not resource.namespaced)
            or (target.namespace is None and target.name is not None and resource.namespaced)
        ):
            return 404, _not_found_body(None)
        if target.name is not None:
            return self._get_one(resource, target)
        if params.get("watch", [""])[-1] in ("true", "1"):
            return 400, status_body(400, "BadRequest", "watch is not supported by the test emulator", {})
        try:
            label_match = parse_label_selector(params.get("labelSelector", [""])[-1])
            field_match = parse_field_selector(params.get("fieldSelector", [""])[-1])
        except SelectorError as exc:
            return 400, status_body(400, "BadRequest", str(exc), {})
        with self._lock:
            revision = str(self._revision)
            objects = [
                obj
                for (plural, namespace, _), obj in sorted(self._objects.items())
                if plural == resource.plural and target.namespace in (None, namespace)
            ]
        # Real list responses leave kind/apiVersion off each item; clients must not rely on them.
        items = [
            {key: value for key, value in obj.items() if key not in ("kind", "apiVersion")}
            for obj in objects
            if label_match(obj["metadata"].get("labels") or {}) and field_match(obj)
        ]
        return 200, {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.api_version,
            "metadata": {"resourceVersion": revision},
            "items": items,
        }

    def _get_one(self, resource: Resource, target: _Target) -> tuple[int, dict]:
        key = (resource.plural, target.namespace or "", target.name or "")
        with self._lock:
            obj = self._objects.get(key)
        if obj is None:
            return 404, _not_found_body(target)
        return 200, obj


def _keep_loopback_off_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # This client reads HTTP(S)_PROXY from the environment; a developer's proxy would
    # otherwise receive the requests meant for the emulator.
    existing = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    value = ",".join(part for part in (existing, "127.0.0.1", "localhost") if part)
    monkeypatch.setenv("no_proxy", value)
    monkeypatch.setenv("NO_PROXY", value)


@pytest.fixture
def kube_emulator() -> Iterator[KubeEmulator]:
    with pytest.MonkeyPatch.context() as monkeypatch, KubeEmulator() as emulator:
        _keep_loopback_off_proxies(monkeypatch)
        yield emulator


@pytest.fixture
def kubeconfig(tmp_path: Path, kube_emulator: KubeEmulator) -> Path:
    return kube_emulator.write_kubeconfig(tmp_path / "kubeconfig")
