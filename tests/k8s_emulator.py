"""An in-process stand-in for the Kubernetes API server, for tests.

Tests reach it through the real ``kubernetes`` client and a real kubeconfig file, so URL
building, the bearer-token header, JSON deserialisation and the client's error mapping are
all exercised rather than mocked away. Reads, and the writes that sandbox provisioning makes:
create, update, patch and delete of the kinds below, Namespaces that stay Terminating for a
while after a delete, and TokenRequest. The emulator's own token is allowed everything; tokens
it issues for a ServiceAccount (and those given to ``add_token``) are authorised by the RBAC
objects it holds, as the apiserver would (see ``tests.k8s_rbac``). Every write, whoever makes it,
passes the ValidatingAdmissionPolicies it holds (see ``tests.k8s_admission``). An ``Impersonate-User``
header is honoured when RBAC allows ``impersonate`` on that user (for a ServiceAccount, on its object),
and a SelfSubjectAccessReview (``kubectl auth can-i``) answers from the same RBAC.

Typical use::

    def test_lists_pods(kube_emulator, kubeconfig):
        kube_emulator.add_namespace("team-a")
        kube_emulator.add({"kind": "Pod", "metadata": {"name": "web", "namespace": "team-a"}, ...})
        kube_emulator.fail(r"/namespaces/team-a/pods$", 403)

    def test_learner_token(kube_emulator, kubeconfig):
        kube_emulator.namespace_termination_seconds = 2  # a deleted Namespace stays Terminating this long
        token = kube_emulator.issue_token("learn-ada", "learner")  # the SA must exist; RBAC applies
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
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.k8s_admission import ADMISSION_GROUP, AdmissionRequest, admission_denial
from tests.k8s_rbac import RBAC_GROUP, Identity, Request, allowed, escalation_problem, service_account_identity

DEFAULT_TOKEN = "test-token"
ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
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
    Resource("secrets", "Secret", "", "v1", True),
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
    Resource("validatingadmissionpolicies", "ValidatingAdmissionPolicy", ADMISSION_GROUP, "v1", False),
    Resource("validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", ADMISSION_GROUP, "v1", False),
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
# Subresources the emulator serves: (group, plural, subresource) -> the methods it accepts.
_SUBRESOURCES = {("", "serviceaccounts", "token"): {"POST"}}
_RBAC_PLURALS = {"roles", "clusterroles", "rolebindings", "clusterrolebindings"}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# The TokenRequest API's bounds on spec.expirationSeconds.
MIN_TOKEN_SECONDS, MAX_TOKEN_SECONDS, DEFAULT_TOKEN_SECONDS = 600, 2**32, 3600


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
    method: str | None


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
    subresource: str | None = None

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
    if len(rest) not in (1, 2, 3):
        return None
    return _Target(
        group,
        version,
        rest[0],
        namespace,
        rest[1] if len(rest) >= 2 else None,
        rest[2] if len(rest) == 3 else None,
    )


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


def replace_name(target: _Target, name: str, *, subresource: str | None = None) -> _Target:
    return _Target(target.group, target.version, target.plural, target.namespace, name, subresource)


def _merge_patch(current: Any, patch: Any) -> Any:
    """RFC 7386; also stands in for a strategic merge patch, which differs only on lists of objects."""
    if not isinstance(patch, dict):
        return patch
    result = dict(current) if isinstance(current, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _json_patch(document: Any, operations: Any) -> Any:
    """The add, replace and remove operations of RFC 6902, which is all the client sends."""
    if not isinstance(operations, list):
        raise ValueError("a JSON patch is a list of operations")
    for operation in operations:
        keys = [part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]]
        parent = document
        for key in keys[:-1]:
            parent = parent[int(key)] if isinstance(parent, list) else parent[key]
        last, op = keys[-1], operation["op"]
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if op == "add":
                parent.insert(index, operation["value"])
            elif op == "replace":
                parent[index] = operation["value"]
            elif op == "remove":
                del parent[index]
            else:
                raise ValueError(f"unsupported op {op!r}")
        elif op in ("add", "replace"):
            if op == "replace" and last not in parent:
                raise KeyError(last)
            parent[last] = operation["value"]
        elif op == "remove":
            del parent[last]
        else:
            raise ValueError(f"unsupported op {op!r}")
    return document


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


@dataclass(frozen=True)
class _IssuedToken:
    namespace: str
    name: str
    uid: str
    expires: float  # on the emulator's clock


class KubeEmulator:
    """A Kubernetes API server on 127.0.0.1, served from a daemon thread."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, user: str = DEFAULT_USER) -> None:
        self.token = token
        self.user = user
        self.errors: list[BaseException] = []
        # How long a deleted Namespace stays Terminating before it and its objects are gone.
        self.namespace_termination_seconds = 0.0
        # When issued tokens expire is judged by this clock; a test moves it to expire them.
        self.clock: Callable[[], float] = time.time
        # Reentrant: a write handler stores objects through the same helpers add() uses.
        self._lock = threading.RLock()
        self._objects: dict[tuple[str, str, str], dict] = {}
        self._identities: dict[str, Identity] = {}
        self._issued: dict[str, _IssuedToken] = {}
        self._terminating: dict[str, float] = {}
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

    def get(self, kind: str, name: str, namespace: str = "default") -> dict | None:
        resource = _BY_KIND[kind]
        with self._lock:
            self._purge_terminated()
            obj = self._objects.get((resource.plural, namespace if resource.namespaced else "", name))
        return json.loads(json.dumps(obj)) if obj is not None else None

    def objects(self, kind: str, namespace: str | None = None) -> list[dict]:
        plural = _BY_KIND[kind].plural
        with self._lock:
            self._purge_terminated()
            return [
                json.loads(json.dumps(obj))
                for (p, ns, _), obj in sorted(self._objects.items())
                if p == plural and namespace in (None, ns)
            ]

    def finish_termination(self) -> None:
        """End every Namespace's Terminating phase now, as if its time had run out."""
        with self._lock:
            for name in self._terminating:
                self._terminating[name] = 0.0
            self._purge_terminated()

    def remove(self, kind: str, name: str, namespace: str = "default") -> bool:
        resource = _BY_KIND[kind]
        key = (resource.plural, namespace if resource.namespaced else "", name)
        with self._lock:
            self._revision += 1
            return self._objects.pop(key, None) is not None

    # -- credentials ---------------------------------------------------------------

    def add_token(self, token: str, user: str, groups: Iterable[str] = ()) -> None:
        """Accept ``token`` as ``user``: unlike the emulator's own token, its requests go through RBAC."""
        with self._lock:
            self._identities[token] = Identity(user, tuple(groups))

    def issue_token(self, namespace: str, service_account: str, seconds: int = DEFAULT_TOKEN_SECONDS) -> str:
        """A token for an existing ServiceAccount, as the TokenRequest API would return it."""
        with self._lock:
            account = self._objects.get(("serviceaccounts", namespace, service_account))
            if account is None:
                raise ValueError(f"no ServiceAccount {namespace}/{service_account}")
            return self._issue(account, seconds)

    def _issue(self, account: dict, seconds: int) -> str:
        token = f"emulated.{uuid.uuid4().hex}"
        metadata = account["metadata"]
        self._issued[token] = _IssuedToken(
            metadata["namespace"], metadata["name"], metadata["uid"], self.clock() + seconds
        )
        return token

    def _authenticate(self, header: str | None) -> Identity | None:
        if not header or not header.startswith("Bearer "):
            return None
        token = header.removeprefix("Bearer ")
        if token == self.token:
            return Identity(self.user, superuser=True)
        with self._lock:
            if token in self._identities:
                return self._identities[token]
            issued = self._issued.get(token)
            if issued is None or issued.expires <= self.clock():
                return None
            account = self._objects.get(("serviceaccounts", issued.namespace, issued.name))
            # A bound token dies with its ServiceAccount, even if one of the same name is created again.
            if account is None or account["metadata"]["uid"] != issued.uid:
                return None
        return service_account_identity(issued.namespace, issued.name)

    def _impersonation(self, identity: Identity, user: str | None) -> Identity | tuple[int, dict]:
        """Who the request acts as: ``identity``, or the user it may impersonate (else the 403 to answer)."""
        if not user:
            return identity
        parts = user.split(":")
        if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"]:
            # A ServiceAccount is impersonated through its object: `impersonate` on it, in its namespace.
            namespace, name = parts[2], parts[3]
            request = Request("impersonate", "", "serviceaccounts", namespace, name)
            acting = service_account_identity(namespace, name)
            subject, scope = f'serviceaccounts "{name}"', f'in the namespace "{namespace}"'
            resource = "serviceaccounts"
        else:
            request = Request("impersonate", "", "users", None, user)
            acting = Identity(user, ("system:authenticated",))
            subject, scope, resource = f'users "{user}"', "at the cluster scope", "users"
        with self._lock:
            if allowed(self._lookup, identity, request):
                return acting
        message = (
            f'{subject} is forbidden: User "{identity.user}" cannot impersonate resource "{resource}" '
            f'in API group "" {scope}'
        )
        return 403, status_body(403, "Forbidden", message, {"name": request.name, "kind": resource})

    def _access_review(self, identity: Identity, data: bytes) -> tuple[int, dict]:
        """A SelfSubjectAccessReview (`kubectl auth can-i`): every signed-in identity may ask about itself."""
        try:
            review = json.loads(data or b"null")
            attributes = review["spec"]["resourceAttributes"]
            resource = attributes.get("resource", "")
            if attributes.get("subresource"):
                resource = f"{resource}/{attributes['subresource']}"
            request = Request(
                attributes["verb"], attributes.get("group", ""), resource,
                attributes.get("namespace") or None, attributes.get("name") or None,
            )  # fmt: skip
        except (ValueError, TypeError, KeyError, AttributeError):
            return 400, status_body(
                400, "BadRequest", "the body is not a SelfSubjectAccessReview with resourceAttributes", {}
            )
        with self._lock:
            answer = allowed(self._lookup, identity, request)
        status = {"allowed": answer, **({} if answer else {"reason": "no RBAC rule allows it"})}
        return 201, {
            **review,
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "status": status,
        }

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
        method: str | None = None,
    ) -> None:
        """Answer requests whose path matches ``path_pattern`` (re.search) with an error Status.

        The first matching fault wins; ``times`` limits how many requests it affects; ``method``
        ("DELETE") limits it to requests of that method. A
        ``retry_after`` adds the header, which makes urllib3's default retry policy retry
        429/503 answers on its own.
        """
        if not 400 <= status <= 599:
            raise ValueError("fail() injects errors; status must be 4xx or 5xx")
        fault = _Fault(re.compile(path_pattern), times, method, status, message, reason, retry_after)
        with self._lock:
            self._faults.append(fault)

    def delay(self, path_pattern: str, seconds: float, times: int | None = None, *, method: str | None = None) -> None:
        """Sleep before answering matching requests; every matching delay adds up."""
        with self._lock:
            self._delays.append(_Delay(re.compile(path_pattern), times, method, seconds))

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
    def _consume(rules: list, method: str, path: str, *, first_only: bool = False) -> list:
        matched = []
        for rule in list(rules):
            if not rule.pattern.search(path) or rule.method not in (None, method):
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
        data = self._read_body(handler)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, url.query))
            delays = self._consume(self._delays, method, path)
            faults = self._consume(self._faults, method, path, first_only=True)
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
            elif (identity := self._authenticate(handler.headers.get("Authorization"))) is None:
                code, body = 401, status_body(401, "Unauthorized", "Unauthorized")
            elif isinstance(acting := self._impersonation(identity, handler.headers.get("Impersonate-User")), tuple):
                code, body = acting
            else:
                params = parse_qs(url.query, keep_blank_values=True)
                content_type = handler.headers.get("Content-Type", "")
                code, body = self._serve(acting, method, path, params, data, content_type)
        except Exception as exc:  # noqa: BLE001 - an emulator bug must reach the test as a 500, not a hung socket
            self.errors.append(exc)
            code, body = 500, status_body(500, "InternalError", f"Internal error occurred: emulator bug: {exc!r}")
        self._send(handler, code, body, headers)

    @staticmethod
    def _read_body(handler: _Handler) -> bytes:
        # An unread request body would be parsed as the next request on a keep-alive connection.
        if "chunked" in handler.headers.get("Transfer-Encoding", ""):
            handler.close_connection = True
            return b""
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def _serve(
        self, identity: Identity, method: str, path: str, params: dict[str, list[str]], data: bytes, content_type: str
    ) -> tuple[int, dict]:
        if path.rstrip("/") == "/version":
            if method in ("GET", "HEAD"):
                return 200, dict(VERSION_INFO)
            return 405, status_body(405, "MethodNotAllowed", _DEFAULT_ERRORS[405][1], {})
        if path.rstrip("/") == ACCESS_REVIEW_PATH and method == "POST":
            return self._access_review(identity, data)
        target = _parse_path(path)
        resource = _BY_GROUP_PLURAL.get((target.group, target.plural)) if target else None
        if (
            target is None
            or resource is None
            or resource.version != target.version
            or (target.namespace is not None and not resource.namespaced)
            or (target.namespace is None and target.name is not None and resource.namespaced)
            or (
                target.subresource is not None
                and (target.group, target.plural, target.subresource) not in _SUBRESOURCES
            )
        ):
            return 404, _not_found_body(None)
        if not self._method_fits(method, target):
            return 405, status_body(405, "MethodNotAllowed", _DEFAULT_ERRORS[405][1], {})
        verb = self._verb(method, target, params)
        namespace = target.namespace
        if target.plural == "namespaces" and target.group == "" and target.name:
            namespace = target.name  # the apiserver authorises a Namespace request inside that namespace
        rbac_resource = f"{target.plural}/{target.subresource}" if target.subresource else target.plural
        with self._lock:
            self._purge_terminated()
            request = Request(verb, target.group, rbac_resource, namespace, target.name)
            if not allowed(self._lookup, identity, request):
                return 403, self._forbidden_body(method, path, target, user=identity.user, verb=verb)
            if method in ("GET", "HEAD"):
                return self._get(resource, target, params)
            try:
                body = json.loads(data or b"null")
            except ValueError as exc:
                return 400, status_body(400, "BadRequest", f"the request body is not JSON: {exc}", {})
            if method == "POST" and target.subresource == "token":
                return self._token_request(target, body)
            if method == "POST":
                return self._create(identity, resource, target, body)
            if method == "PUT":
                return self._update(identity, resource, target, body)
            if method == "PATCH":
                return self._patch(identity, resource, target, body, content_type)
            return self._delete(identity, resource, target)

    @staticmethod
    def _method_fits(method: str, target: _Target) -> bool:
        if target.subresource is not None:
            return method in _SUBRESOURCES[(target.group, target.plural, target.subresource)]
        if method in ("GET", "HEAD"):
            return True
        if method == "POST":
            return target.name is None
        # DELETE of a whole collection is not emulated.
        return method in ("PUT", "PATCH", "DELETE") and target.name is not None

    @staticmethod
    def _verb(method: str, target: _Target, params: dict[str, list[str]]) -> str:
        if method in ("GET", "HEAD"):
            if params.get("watch", [""])[-1] in ("true", "1"):
                return "watch"
            return "get" if target.name else "list"
        if method == "DELETE" and not target.name:
            return "deletecollection"
        return _VERBS[method]

    def _lookup(self, plural: str, namespace: str | None) -> list[dict]:
        # Called with the lock held.
        return [obj for (p, ns, _), obj in self._objects.items() if p == plural and namespace in (None, ns)]

    def _purge_terminated(self) -> None:
        # Called with the lock held: a Namespace whose time is up goes, with everything in it.
        now = time.monotonic()
        for name, deadline in list(self._terminating.items()):
            if deadline > now:
                continue
            del self._terminating[name]
            self._revision += 1
            for key in [key for key in self._objects if key[1] == name or key == ("namespaces", "", name)]:
                del self._objects[key]

    # -- writes ------------------------------------------------------------------

    @staticmethod
    def _invalid(resource: Resource, name: str, field: str, value: Any, detail: str) -> tuple[int, dict]:
        message = f'{resource.kind} "{name}" is invalid: {field}: Invalid value: {json.dumps(value)}: {detail}'
        details = {
            "name": name,
            **({"group": resource.group} if resource.group else {}),
            "kind": resource.kind,
            "causes": [{"reason": "FieldValueInvalid", "message": f"Invalid value: {json.dumps(value)}: {detail}",
                        "field": field}],
        }  # fmt: skip
        return 422, status_body(422, "Invalid", message, details)

    def _name_problem(self, resource: Resource, name: Any) -> tuple[int, dict] | None:
        if not isinstance(name, str) or not name:
            return 422, status_body(
                422, "Invalid", f"{resource.kind} \"\" is invalid: metadata.name: Required value: name is required",
                {"kind": resource.kind},
            )  # fmt: skip
        if resource.plural == "namespaces":
            if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
                return self._invalid(
                    resource, name, "metadata.name", name,
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                    "and must start and end with an alphanumeric character",
                )  # fmt: skip
        elif resource.group != RBAC_GROUP and (len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name)):
            return self._invalid(
                resource, name, "metadata.name", name,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
            )  # fmt: skip
        return None

    def _namespace_problem(self, resource: Resource, namespace: str, name: str) -> tuple[int, dict] | None:
        if ("namespaces", "", namespace) not in self._objects:
            return 404, status_body(
                404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"}
            )
        if namespace in self._terminating:
            reason = f"unable to create new content in namespace {namespace} because it is being terminated"
            qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
            details = {
                "name": name,
                **({"group": resource.group} if resource.group else {}),
                "kind": resource.plural,
                "causes": [{"reason": "NamespaceTerminating", "message": reason, "field": "metadata.namespace"}],
            }
            return 403, status_body(403, "Forbidden", f'{qualified} "{name}" is forbidden: {reason}', details)
        return None

    def _escalation(self, identity: Identity, resource: Resource, namespace: str, obj: dict) -> tuple[int, dict] | None:
        if resource.plural not in _RBAC_PLURALS:
            return None
        problem = escalation_problem(self._lookup, identity, resource.plural, namespace or None, obj)
        if not problem:
            return None
        name = obj["metadata"]["name"]
        details = {"name": name, "group": resource.group, "kind": resource.plural}
        message = f'{resource.plural}.{resource.group} "{name}" is forbidden: {problem}'
        return 403, status_body(403, "Forbidden", message, details)

    def _admission(
        self, identity: Identity, resource: Resource, operation: str, namespace: str, name: Any,
        obj: dict | None, old: dict | None,
    ) -> tuple[int, dict] | None:  # fmt: skip
        request = AdmissionRequest(
            operation, resource.group, resource.version, resource.kind, resource.plural, namespace, str(name or ""),
            identity, obj, old,
        )  # fmt: skip
        denial = admission_denial(self._lookup, request)
        if denial is None:
            return None
        group = {"group": resource.group} if resource.group else {}
        details = {"name": request.name, **group, "kind": resource.plural}
        return denial.status, status_body(denial.status, denial.reason, denial.message, details)

    def _body_problem(self, resource: Resource, target: _Target, body: Any) -> tuple[int, dict] | None:
        if not isinstance(body, dict) or not isinstance(body.get("metadata", {}), dict):
            return 400, status_body(400, "BadRequest", "the request body is not a Kubernetes object", {})
        if body.get("kind") not in (None, resource.kind):
            return 400, status_body(400, "BadRequest", f"the body is a {body.get('kind')}, not a {resource.kind}", {})
        given = (body.get("metadata") or {}).get("namespace")
        if resource.namespaced and given and given != target.namespace:
            return 400, status_body(
                400, "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request", {},
            )  # fmt: skip
        return None

    def _create(self, identity: Identity, resource: Resource, target: _Target, body: Any) -> tuple[int, dict]:
        if problem := self._body_problem(resource, target, body):
            return problem
        metadata = body.setdefault("metadata", {})
        name = metadata.get("name")
        if problem := self._name_problem(resource, name):
            return problem
        namespace = target.namespace or ""
        if resource.namespaced and (problem := self._namespace_problem(resource, namespace, name)):
            return problem
        if (resource.plural, namespace, name) in self._objects:
            message = f'{target.qualified} "{name}" already exists'
            if resource.plural == "namespaces" and name in self._terminating:
                message = f"object is being deleted: {message}"
            return 409, status_body(409, "AlreadyExists", message, _details(replace_name(target, name)))
        if problem := self._escalation(identity, resource, namespace, body):
            return problem
        for key in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"):
            metadata.pop(key, None)
        if resource.namespaced:
            metadata["namespace"] = namespace
        if resource.plural == "namespaces":
            metadata.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
            body["spec"] = {"finalizers": ["kubernetes"]}
            body["status"] = {"phase": "Active"}
        body["kind"] = resource.kind
        # Admission sees the object as it would be stored (its namespace filled in from the URL).
        if problem := self._admission(identity, resource, "CREATE", namespace, name, body, None):
            return problem
        return 201, self.add(body)

    def _existing(self, resource: Resource, target: _Target) -> dict | None:
        return self._objects.get((resource.plural, target.namespace or "", target.name or ""))

    def _replace(self, identity: Identity, resource: Resource, target: _Target, current: dict, new: Any):
        if problem := self._body_problem(resource, target, new):
            return problem
        metadata = new.setdefault("metadata", {})
        if metadata.get("name", target.name) != target.name:
            return 400, status_body(400, "BadRequest", "the name of the object does not match the name on the URL", {})
        sent_version = metadata.get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            message = (
                f'Operation cannot be fulfilled on {target.qualified} "{target.name}": the object has been '
                "modified; please apply your changes to the latest version and try again"
            )
            return 409, status_body(409, "Conflict", message, _details(target))
        if problem := self._escalation(identity, resource, target.namespace or "", new):
            return problem
        metadata["name"] = target.name
        for key in ("uid", "creationTimestamp"):
            metadata[key] = current["metadata"][key]
        metadata.pop("resourceVersion", None)
        if resource.namespaced:
            metadata["namespace"] = target.namespace
        if resource.plural == "namespaces":
            new["status"] = current.get("status", {})
        new["kind"] = resource.kind
        if problem := self._admission(identity, resource, "UPDATE", target.namespace or "", target.name, new, current):
            return problem
        return 200, self.add(new)

    def _update(self, identity: Identity, resource: Resource, target: _Target, body: Any) -> tuple[int, dict]:
        current = self._existing(resource, target)
        if current is None:
            return 404, _not_found_body(target)
        return self._replace(identity, resource, target, current, body)

    def _patch(
        self, identity: Identity, resource: Resource, target: _Target, body: Any, content_type: str
    ) -> tuple[int, dict]:
        current = self._existing(resource, target)
        if current is None:
            return 404, _not_found_body(target)
        merged = json.loads(json.dumps(current))
        if "json-patch" in content_type:
            try:
                merged = _json_patch(merged, body)
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                return 422, status_body(422, "Invalid", f"the JSON patch could not be applied: {exc}", {})
        elif isinstance(body, dict):
            merged = _merge_patch(merged, body)
        else:
            return 400, status_body(400, "BadRequest", "a merge patch must be a JSON object", {})
        # A patch applies to the current object whatever version the client last saw.
        merged.get("metadata", {}).pop("resourceVersion", None)
        return self._replace(identity, resource, target, current, merged)

    def _delete(self, identity: Identity, resource: Resource, target: _Target) -> tuple[int, dict]:
        current = self._existing(resource, target)
        if current is None:
            return 404, _not_found_body(target)
        if problem := self._admission(identity, resource, "DELETE", target.namespace or "", target.name, None, current):
            return problem
        if resource.plural == "namespaces":
            name = target.name or ""
            if name not in self._terminating:
                self._terminating[name] = time.monotonic() + self.namespace_termination_seconds
                self._revision += 1
                current["metadata"]["deletionTimestamp"] = _now()
                current["metadata"]["resourceVersion"] = str(self._revision)
                current["spec"] = {"finalizers": ["kubernetes"]}
                current["status"] = {"phase": "Terminating"}
            return 200, json.loads(json.dumps(current))
        self._revision += 1
        del self._objects[(resource.plural, target.namespace or "", target.name or "")]
        details = {**_details(target), "uid": current["metadata"]["uid"]}
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}

    def _token_request(self, target: _Target, body: Any) -> tuple[int, dict]:
        account = self._objects.get(("serviceaccounts", target.namespace or "", target.name or ""))
        if account is None:
            return 404, _not_found_body(replace_name(target, target.name or "", subresource=None))
        spec = (body or {}).get("spec") or {} if isinstance(body, dict) else {}
        seconds = spec.get("expirationSeconds") or DEFAULT_TOKEN_SECONDS
        token_resource = Resource("token", "TokenRequest", "authentication.k8s.io", "v1", True)
        if not isinstance(seconds, int) or seconds < MIN_TOKEN_SECONDS:
            return self._invalid(
                token_resource, target.name or "", "spec.expirationSeconds", seconds,
                "may not specify a duration less than 10 minutes",
            )  # fmt: skip
        if seconds > MAX_TOKEN_SECONDS:
            return self._invalid(
                token_resource, target.name or "", "spec.expirationSeconds", seconds,
                "may not specify a duration larger than 2^32 seconds",
            )  # fmt: skip
        token = self._issue(account, seconds)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
        return 201, {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": target.name, "namespace": target.namespace, "creationTimestamp": None},
            "spec": {"audiences": spec.get("audiences") or [], "expirationSeconds": seconds, "boundObjectRef": None},
            "status": {"token": token, "expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ")},
        }

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

    def _forbidden_body(
        self, method: str, path: str, target: _Target | None, *, user: str | None = None, verb: str | None = None
    ) -> dict:
        user = user or self.user
        if target is None:
            verb = verb or _VERBS.get(method, "get")
            return status_body(403, "Forbidden", f'forbidden: User "{user}" cannot {verb} path "{path}"', {})
        if verb is None:
            verb = _VERBS.get(method, "get")
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
        plural = f"{target.plural}/{target.subresource}" if target.subresource else target.plural
        message = (
            f'{subject} is forbidden: User "{user}" cannot {verb} resource "{plural}" '
            f'in API group "{target.group}" {scope}'
        )
        return status_body(403, "Forbidden", message, _details(target))

    def _get(self, resource: Resource, target: _Target, params: dict[str, list[str]]) -> tuple[int, dict]:
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
