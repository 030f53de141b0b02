"""Writes to the cluster for learners' sandboxes: create one, hand out a token for it, delete or reset it.

The reads of lab checks stay in ``sources.py``; this is the only other module that talks to Kubernetes,
with its own identity (SANDBOX_PROVISIONER_*), whose permissions deploy/rbac/sandbox-provisioner.yaml
lists. Every call has a timeout and no retries: a learner waits on it. Every failure becomes a
ProvisioningError with a message for the learner and a detail for the operator's log.

A sandbox is a namespace labelled as the portal's, holding a guard ResourceQuota and LimitRange (named
so the learner's ClusterRole never reaches them), a ServiceAccount and a RoleBinding of the learner
ClusterRole to it. Creating is idempotent: each object is created, or brought back to what the portal
wants if it exists, so a retry completes what a failure interrupted.
"""

import base64
import json
import logging
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings

from portal.env import limit_entries, quantities

from .sources import SourceError, api_client_for

logger = logging.getLogger(__name__)

# The TokenRequest API's bounds on a token's lifetime.
MIN_TOKEN_SECONDS, MAX_TOKEN_SECONDS = 600, 2**32
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "kube-journeys"
# The guard objects' name. The learner ClusterRole may edit quotas and limit ranges only by the names the
# labs use, never this one (tests/sandbox/test_sandbox_rbac_emulated.py proves it).
GUARD_NAME = "kube-journeys-guard"
SERVICE_ACCOUNT = "learner"
ROLE_BINDING = "kube-journeys-learner"
POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

ACTIVE, TERMINATING, ABSENT = "active", "terminating", "absent"


def namespace_problem(name):
    """Why ``name`` cannot be a namespace (a DNS-1123 label), or "" when it can."""
    if not isinstance(name, str) or not name:
        return "a namespace needs a name"
    if len(name) > 63:
        return "a namespace name has at most 63 characters"
    if not DNS_LABEL.fullmatch(name):
        return "a namespace name uses lowercase letters, digits and hyphens, and starts and ends with a letter or digit"
    return ""


class ProvisioningError(Exception):
    """``code`` is stable (logs, tests, the Sandbox row); ``message`` is for the learner; ``detail`` for operators."""

    def __init__(self, code, message, *, detail=""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message


@dataclass
class ProvisionerSettings:
    kubeconfig: str = ""
    context: str = ""
    in_cluster: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 5.0
    learner_server: str = ""
    learner_cluster_role: str = "kube-journeys-learner"
    token_seconds: int = 8 * 3600
    pod_security: str = "baseline"
    quota: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)
    reset_wait: float = 3.0

    @classmethod
    def from_django(cls):
        return cls(
            kubeconfig=settings.SANDBOX_PROVISIONER_KUBECONFIG,
            context=settings.SANDBOX_PROVISIONER_CONTEXT,
            in_cluster=settings.SANDBOX_PROVISIONER_IN_CLUSTER,
            connect_timeout=settings.SANDBOX_CONNECT_TIMEOUT,
            read_timeout=settings.SANDBOX_READ_TIMEOUT,
            learner_server=settings.SANDBOX_LEARNER_SERVER,
            learner_cluster_role=settings.SANDBOX_LEARNER_CLUSTER_ROLE,
            token_seconds=settings.SANDBOX_TOKEN_SECONDS,
            pod_security=settings.SANDBOX_POD_SECURITY,
            quota=settings.SANDBOX_QUOTA,
            limits=settings.SANDBOX_LIMITS,
            reset_wait=settings.SANDBOX_RESET_WAIT,
        )

    @property
    def configured(self):
        return bool(self.kubeconfig) or self.in_cluster

    def problems(self):
        """What makes these settings unusable: values a settings module set without the start's checks."""
        found = []
        guards = (("SANDBOX_QUOTA", self.quota, quantities), ("SANDBOX_LIMITS", self.limits, limit_entries))
        for name, value, shape in guards:
            if problem := shape(value):
                found.append(f"{name} {problem}")
        for name, seconds in (("SANDBOX_CONNECT_TIMEOUT", self.connect_timeout),
                              ("SANDBOX_READ_TIMEOUT", self.read_timeout)):  # fmt: skip
            if not _is_number(seconds) or not 0 < seconds < math.inf:
                found.append(f"{name} must be a number of seconds above 0")
        if not _is_number(self.token_seconds) or not MIN_TOKEN_SECONDS <= self.token_seconds <= MAX_TOKEN_SECONDS:
            found.append(f"SANDBOX_TOKEN_SECONDS must be from {MIN_TOKEN_SECONDS} to {MAX_TOKEN_SECONDS} seconds")
        return found


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def provisioning_enabled():
    """On, configured, and with settings it can work with (``manage.py check`` names any that it cannot)."""
    if not settings.SANDBOX_PROVISIONING:
        return False
    provisioner = ProvisionerSettings.from_django()
    return provisioner.configured and not provisioner.problems()


@dataclass(frozen=True)
class Credentials:
    """A token for the learner's ServiceAccount and a kubeconfig holding it. Never stored by the portal."""

    namespace: str
    token: str
    expires: str  # RFC 3339, as the API server wrote it
    kubeconfig: str


class Provisioner:
    def __init__(self, provisioner_settings=None):
        self.settings = provisioner_settings or ProvisionerSettings.from_django()
        if self.settings.pod_security not in POD_SECURITY_LEVELS:
            raise ProvisioningError(
                "not-configured",
                "Sandboxes are not set up correctly on this portal. Tell your administrator.",
                detail=f"SANDBOX_POD_SECURITY must be one of {', '.join(POD_SECURITY_LEVELS)}",
            )
        self.api_calls = 0

    # --- what the portal wants in a sandbox ---

    def namespace_body(self, namespace):
        level = self.settings.pod_security
        return {
            "metadata": {
                "name": namespace,
                "labels": {
                    MANAGED_BY_LABEL: MANAGED_BY,
                    "pod-security.kubernetes.io/enforce": level,
                    "pod-security.kubernetes.io/enforce-version": "latest",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                },
            }
        }

    def _guard_labels(self):
        return {MANAGED_BY_LABEL: MANAGED_BY}

    def quota_body(self):
        return {"metadata": {"name": GUARD_NAME, "labels": self._guard_labels()}, "spec": {"hard": self.settings.quota}}

    def limit_range_body(self):
        entry = {"type": "Container", **self.settings.limits}
        return {"metadata": {"name": GUARD_NAME, "labels": self._guard_labels()}, "spec": {"limits": [entry]}}

    def service_account_body(self):
        return {
            "metadata": {"name": SERVICE_ACCOUNT, "labels": self._guard_labels()},
            # The learner's kubectl uses a requested token; Pods of the labs bring their own accounts.
            "automountServiceAccountToken": False,
        }

    def role_binding_body(self, namespace):
        return {
            "metadata": {"name": ROLE_BINDING, "labels": self._guard_labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": self.settings.learner_cluster_role,
            },
            "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": namespace}],
        }

    # --- actions ---

    def namespace_state(self, namespace):
        """ACTIVE, TERMINATING or ABSENT; refuses a namespace the portal did not create."""
        _check_name(namespace)
        with self._client() as api:
            return self._state(api, namespace)

    def create(self, namespace):
        """Create the sandbox, or complete and repair it. A failure removes a namespace this call created."""
        _check_name(namespace)
        with self._client() as api:
            created = self._ensure_namespace(api, namespace)
            try:
                self._ensure_contents(api, namespace)
            except ProvisioningError:
                if created:
                    self._clean_up(api, namespace)
                raise
        return ACTIVE

    def delete(self, namespace):
        """Start removing the sandbox: TERMINATING, or ABSENT when there was none."""
        _check_name(namespace)
        with self._client() as api:
            state = self._state(api, namespace)
            if state == ABSENT:
                return ABSENT
            return self._delete_namespace(api, namespace)

    def reset(self, namespace):
        """Delete and recreate. Waits briefly for the old namespace to go; TERMINATING means "ask again soon"."""
        _check_name(namespace)
        with self._client() as api:
            state = self._state(api, namespace)
            if state == ACTIVE:
                state = self._delete_namespace(api, namespace)
            deadline = time.monotonic() + self.settings.reset_wait
            while state == TERMINATING and time.monotonic() < deadline:
                time.sleep(0.2)
                state = self._state(api, namespace)
            if state == TERMINATING:
                return TERMINATING
        return self.create(namespace)

    def credentials(self, namespace):
        """A fresh token (TokenRequest) and a kubeconfig for the learner's ServiceAccount."""
        _check_name(namespace)
        with self._client() as api:
            from kubernetes import client

            state = self._state(api, namespace)
            if state != ACTIVE:
                raise ProvisioningError(
                    "no-sandbox" if state == ABSENT else "terminating",
                    _STATE_MESSAGES[state],
                    detail=f"token asked for namespace {namespace} in state {state}",
                )
            try:
                answer = self._call(
                    lambda: client.CoreV1Api(api).create_namespaced_service_account_token(
                        SERVICE_ACCOUNT,
                        namespace,
                        {"spec": {"expirationSeconds": self.settings.token_seconds}},
                        _preload_content=False,
                        _request_timeout=self._timeout,
                    ),
                    verb="create",
                    resource="serviceaccounts/token",
                    namespace=namespace,
                )
            except ProvisioningError as exc:
                if exc.code != "not-found":
                    raise
                # The learner may delete ServiceAccounts in their namespace, this one included.
                raise ProvisioningError(
                    "incomplete",
                    "Your sandbox has lost the account its kubeconfig uses. Create your sandbox again to repair it; "
                    "your objects stay.",
                    detail=exc.detail,
                ) from None
            status = _section(answer, "status", namespace)
            token, expires = status.get("token"), status.get("expirationTimestamp") or ""
            if not isinstance(token, str) or not token:
                raise ProvisioningError(
                    "server-error",
                    "The cluster did not hand out a token for your sandbox. Try again in a minute.",
                    detail=f"TokenRequest answer without status.token: {sorted(answer)}",
                )
            return Credentials(namespace, token, str(expires), self._kubeconfig(api, namespace, token))

    # --- steps ---

    @property
    def _timeout(self):
        return (self.settings.connect_timeout, self.settings.read_timeout)

    def _client(self):
        try:
            return api_client_for(
                self.settings.kubeconfig, self.settings.context or None, in_cluster=self.settings.in_cluster
            )
        except SourceError as exc:
            raise ProvisioningError(
                "not-configured",
                "Sandboxes are not set up correctly on this portal. Tell your administrator.",
                detail=exc.detail,
            ) from None

    def _read_namespace(self, api, namespace):
        return self._namespace_call(api, "read_namespace", "get", namespace)

    def _namespace_call(self, api, method, verb, namespace):
        """Read or delete the namespace; the answer, or None when it is not there (a 404 is no failure here)."""
        from kubernetes import client

        call = getattr(client.CoreV1Api(api), method)
        try:
            return self._call(
                lambda: call(namespace, _preload_content=False, _request_timeout=self._timeout),
                verb=verb,
                resource="namespaces",
                namespace=namespace,
            )
        except ProvisioningError as exc:
            if exc.code == "not-found":
                return None
            raise

    def _state(self, api, namespace):
        found = self._read_namespace(api, namespace)
        if found is None:
            return ABSENT
        _check_ours(found, namespace)
        metadata, status = _section(found, "metadata", namespace), _section(found, "status", namespace)
        if metadata.get("deletionTimestamp") or status.get("phase") == "Terminating":
            return TERMINATING
        return ACTIVE

    def _ensure_namespace(self, api, namespace):
        """Create the namespace; True when this call created it."""
        from kubernetes import client

        core = client.CoreV1Api(api)
        state = self._state(api, namespace)
        if state == TERMINATING:
            raise ProvisioningError("terminating", _STATE_MESSAGES[TERMINATING], detail=f"{namespace} is terminating")
        body = self.namespace_body(namespace)
        if state == ACTIVE:
            # Labels an operator changed since (a new Pod Security level) are brought up to date.
            self._call(
                lambda: core.patch_namespace(
                    namespace, {"metadata": {"labels": body["metadata"]["labels"]}},
                    _preload_content=False, _request_timeout=self._timeout,
                ),
                verb="patch", resource="namespaces", namespace=namespace,
            )  # fmt: skip
            return False
        try:
            self._call(
                lambda: core.create_namespace(body, _preload_content=False, _request_timeout=self._timeout),
                verb="create",
                resource="namespaces",
                namespace=namespace,
            )
        except ProvisioningError as exc:
            if exc.code != "conflict":
                raise
            # Someone (a second click) created it meanwhile, or it began terminating: look again.
            state = self._state(api, namespace)
            if state == TERMINATING:
                raise ProvisioningError("terminating", _STATE_MESSAGES[TERMINATING], detail=exc.detail) from None
            if state == ABSENT:
                raise
            return False
        return True

    def _ensure_contents(self, api, namespace):
        from kubernetes import client

        core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
        self._ensure(
            namespace, "resourcequotas", self.quota_body(),
            create=core.create_namespaced_resource_quota, replace=core.replace_namespaced_resource_quota,
        )  # fmt: skip
        self._ensure(
            namespace, "limitranges", self.limit_range_body(),
            create=core.create_namespaced_limit_range, replace=core.replace_namespaced_limit_range,
        )  # fmt: skip
        self._ensure(
            namespace, "serviceaccounts", self.service_account_body(), create=core.create_namespaced_service_account
        )
        self._ensure_role_binding(rbac, namespace)

    def _ensure(self, namespace, resource, body, *, create, replace=None):
        """Create ``body``; when it exists, put it back as the portal wants it (a guard someone loosened)."""
        name = body["metadata"]["name"]
        try:
            self._call(
                lambda: create(namespace, body, _preload_content=False, _request_timeout=self._timeout),
                verb="create",
                resource=resource,
                namespace=namespace,
            )
        except ProvisioningError as exc:
            if exc.code != "conflict":
                raise
            if replace is None:
                return
            self._call(
                lambda: replace(name, namespace, body, _preload_content=False, _request_timeout=self._timeout),
                verb="update",
                resource=resource,
                namespace=namespace,
            )

    def _ensure_role_binding(self, rbac, namespace):
        body = self.role_binding_body(namespace)
        try:
            self._call(
                lambda: rbac.create_namespaced_role_binding(
                    namespace, body, _preload_content=False, _request_timeout=self._timeout
                ),
                verb="create",
                resource="rolebindings",
                namespace=namespace,
            )
            return
        except ProvisioningError as exc:
            if exc.code != "conflict":
                raise
        current = self._call(
            lambda: rbac.read_namespaced_role_binding(
                ROLE_BINDING, namespace, _preload_content=False, _request_timeout=self._timeout
            ),
            verb="get",
            resource="rolebindings",
            namespace=namespace,
        )
        if current.get("roleRef") == body["roleRef"] and current.get("subjects") == body["subjects"]:
            return
        # roleRef cannot change in place: the binding is replaced.
        self._call(
            lambda: rbac.delete_namespaced_role_binding(
                ROLE_BINDING, namespace, _preload_content=False, _request_timeout=self._timeout
            ),
            verb="delete",
            resource="rolebindings",
            namespace=namespace,
        )
        self._call(
            lambda: rbac.create_namespaced_role_binding(
                namespace, body, _preload_content=False, _request_timeout=self._timeout
            ),
            verb="create",
            resource="rolebindings",
            namespace=namespace,
        )

    def _delete_namespace(self, api, namespace):
        answer = self._namespace_call(api, "delete_namespace", "delete", namespace)
        return ABSENT if answer is None else TERMINATING

    def _clean_up(self, api, namespace):
        try:
            self._delete_namespace(api, namespace)
        except ProvisioningError as exc:
            # A retry of create completes the namespace instead; the operator sees why it stayed.
            logger.warning(
                "sandbox %s: could not remove the half-made namespace (%s): %s", namespace, exc.code, exc.detail
            )

    def _kubeconfig(self, api, namespace, token):
        configuration = api.configuration
        server = self.settings.learner_server or configuration.host
        cluster = {"server": server}
        ca_file = configuration.ssl_ca_cert
        if ca_file and Path(ca_file).is_file():
            cluster["certificate-authority-data"] = base64.b64encode(Path(ca_file).read_bytes()).decode("ascii")
        name = f"sandbox-{namespace}"
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": cluster}],
            "users": [{"name": f"{namespace}-{SERVICE_ACCOUNT}", "user": {"token": token}}],
            "contexts": [
                {
                    "name": name,
                    "context": {"cluster": name, "user": f"{namespace}-{SERVICE_ACCOUNT}", "namespace": namespace},
                }
            ],
            "current-context": name,
        }
        return yaml.safe_dump(document, sort_keys=False)

    def _call(self, request, *, verb, resource, namespace):
        """Run one API call; the parsed JSON answer, or a ProvisioningError."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        self.api_calls += 1
        try:
            response = request()
        except ApiException as exc:
            if not exc.status:
                raise _connection_error(exc.reason or exc) from None
            raise _api_error(exc, verb=verb, resource=resource, namespace=namespace) from None
        except (HTTPError, OSError) as exc:
            raise _connection_error(getattr(exc, "reason", None) or exc) from None
        try:
            answer = json.loads(response.data or b"{}")
        except (ValueError, AttributeError):
            answer = None
        if not isinstance(answer, dict):
            raise _unreadable(f"{verb} {resource} in {namespace}: the answer is not a JSON object")
        return answer


_STATE_MESSAGES = {
    ABSENT: "You have no sandbox yet. Create it first.",
    TERMINATING: "Your previous sandbox is still being removed. Try again in a few seconds.",
}


def _check_name(namespace):
    problem = namespace_problem(namespace)
    if problem:
        raise ProvisioningError(
            "bad-name",
            "Your sandbox cannot be named after your username. Tell your administrator.",
            detail=f"{namespace!r}: {problem}",
        )


def _section(answer, key, namespace):
    """``answer[key]`` as a mapping ({} when absent); an answer of another shape is the server's fault."""
    value = answer.get(key) or {}
    if not isinstance(value, dict):
        raise _unreadable(f"{namespace}: the answer's {key} is a {type(value).__name__}, not an object")
    return value


def _unreadable(detail):
    return ProvisioningError(
        "server-error",
        "The Kubernetes API answered with something the portal cannot read. Try again in a minute.",
        detail=detail,
    )


def _check_ours(found, namespace):
    labels = _section(_section(found, "metadata", namespace), "labels", namespace)
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        raise ProvisioningError(
            "not-ours",
            f'The namespace "{namespace}" already exists and was not made by this portal, so it cannot be your '
            "sandbox. Tell your administrator.",
            detail=f"namespace {namespace} lacks the label {MANAGED_BY_LABEL}={MANAGED_BY}",
        )


def _connection_error(reason):
    text = str(reason)
    lowered = text.lower()
    timed_out = "timed out" in lowered or "timeout" in type(reason).__name__.lower()
    # A refused connection raises a subclass of the connect-timeout error; it is not a timeout.
    if timed_out and "refused" not in lowered:
        return ProvisioningError(
            "timeout",
            "The cluster did not answer in time, so your sandbox was not changed. Try again in a minute.",
            detail=text,
        )
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return ProvisioningError(
            "tls",
            "The portal could not connect securely to the cluster. Tell your administrator.",
            detail=f"TLS: {text}",
        )
    return ProvisioningError(
        "unreachable",
        "The portal cannot reach the cluster right now, so your sandbox was not changed. Try again later.",
        detail=text,
    )


def _api_error(exc, *, verb, resource, namespace):
    status = exc.status or 0
    try:
        body = json.loads(exc.body or "{}")
    except (ValueError, TypeError):
        body = {}
    body = body if isinstance(body, dict) else {}
    server_message = str(body.get("message") or exc.reason or "")
    detail = f"{verb} {resource} in {namespace}: {status} {body.get('reason') or exc.reason or ''}: {server_message}"
    causes = (body.get("details") or {}).get("causes") or [] if isinstance(body.get("details"), dict) else []
    if status == 401:
        return ProvisioningError(
            "unauthorized",
            "The cluster did not accept the portal's credentials, so your sandbox was not changed. "
            "Tell your administrator.",
            detail=detail,
        )
    if status == 403 and (
        "being terminated" in server_message
        or any(isinstance(c, dict) and c.get("reason") == "NamespaceTerminating" for c in causes)
    ):
        return ProvisioningError("terminating", _STATE_MESSAGES[TERMINATING], detail=detail)
    if status in (403, 422) and "ValidatingAdmissionPolicy" in server_message:
        # An admission policy of the cluster refused it: most often the policy's namespace prefix no
        # longer matches SANDBOX_NAMESPACE_TEMPLATE. The policy's own words go to the operator.
        return ProvisioningError(
            "policy",
            "The cluster's rules for sandboxes refused this change, so your sandbox was not changed. "
            "Tell your administrator.",
            detail=detail,
        )
    if status == 403 and "exceeded quota" in server_message:
        return ProvisioningError(
            "quota",
            "The cluster has no room for your sandbox right now (a quota is full). Tell your administrator.",
            detail=detail,
        )
    if status == 403:
        where = "" if resource == "namespaces" else " in your sandbox"
        return ProvisioningError(
            "forbidden",
            f"The portal is not allowed to {verb} {resource}{where}, so your sandbox was not changed. "
            "Tell your administrator: the portal's provisioning permissions need to be granted.",
            detail=detail,
        )
    if status == 404:
        return ProvisioningError("not-found", _STATE_MESSAGES[ABSENT], detail=detail)
    if status == 409:
        if "being deleted" in server_message:
            return ProvisioningError("terminating", _STATE_MESSAGES[TERMINATING], detail=detail)
        return ProvisioningError(
            "conflict", "Your sandbox was being changed at the same moment. Try again.", detail=detail
        )
    if status == 422:
        return ProvisioningError(
            "invalid",
            "The cluster refused your sandbox's settings. Tell your administrator.",
            detail=detail,
        )
    return ProvisioningError(
        "server-error",
        f"The cluster answered with an error ({status}), so your sandbox may not be ready. Try again in a minute.",
        detail=detail,
    )
