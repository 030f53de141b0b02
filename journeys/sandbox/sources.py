"""Where a lab's objects come from: the live Kubernetes API, or output a learner pasted.

This is the only module that imports the `kubernetes` client. A learner never supplies a server:
the cluster is whatever the operator configured (SANDBOX_KUBECONFIG + SANDBOX_CONTEXT, or the
portal's in-cluster ServiceAccount). Every failure becomes a SourceError whose message is written
for the learner; the operator-facing detail goes to the log.
"""

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .snapshot import Snapshot

logger = logging.getLogger(__name__)

MAX_PASTE_BYTES = 1024 * 1024
MAX_OBJECTS = 5000
NEVER_READ_KINDS = {"Secret"}  # the portal never keeps Secret data, even when a learner pastes it


class SourceError(Exception):
    """Objects could not be read. ``code`` is stable (for logs and tests); ``message`` is for the learner."""

    def __init__(self, code, message, *, detail=""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message


# --- Pasted or uploaded output ---


# libyaml when the platform has it: several times faster than the pure-Python loader on large pastes.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_documents(text):
    """Safe YAML without anchors and aliases: `kubectl -o yaml` never writes them, and they allow alias bombs."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            mark = getattr(event, "start_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise SourceError(
                "bad-file", f"YAML aliases (*name) are not accepted here{where}; paste plain kubectl output."
            )
    return [document for document in yaml.load_all(text, Loader=_Loader) if document is not None]


@dataclass
class FileSource:
    """Objects from `kubectl get ... -o yaml` / `-o json` output or manifests (a List or several documents)."""

    text: str = ""
    upload: object = None
    kind: str = field(default="file", init=False)

    @classmethod
    def from_upload(cls, uploaded):
        return cls(upload=uploaded)

    def _text(self):
        if self.upload is None:
            text = self.text or ""
            if len(text.encode("utf-8")) > MAX_PASTE_BYTES:
                raise SourceError(
                    "bad-file", "The pasted text is larger than 1 MiB. Paste only the objects of this lab."
                )
            return text
        if self.upload.size > MAX_PASTE_BYTES:
            raise SourceError("bad-file", "The file is larger than 1 MiB. Upload only the objects of this lab.")
        try:
            return self.upload.read(MAX_PASTE_BYTES + 1).decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(
                "bad-file", "The file is not UTF-8 text. Upload the output of kubectl get ... -o yaml."
            ) from None

    def documents(self):
        stripped = self._text().strip()
        if not stripped:
            raise SourceError("bad-file", "Nothing was pasted. Paste the output of kubectl get ... -o yaml.")
        if stripped[0] in "{[":
            try:
                data = json.loads(stripped)
            except ValueError as exc:
                raise SourceError("bad-file", f"This looks like JSON but cannot be read: {exc}.") from None
            except RecursionError:
                raise SourceError("bad-file", "This JSON is nested too deeply to be Kubernetes objects.") from None
            return data if isinstance(data, list) else [data]
        try:
            return _load_documents(stripped)
        except yaml.MarkedYAMLError as exc:
            line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
            raise SourceError("bad-file", f"This is not valid YAML (line {line}: {exc.problem}).") from None
        except (yaml.YAMLError, RecursionError) as exc:
            raise SourceError("bad-file", f"This is not valid YAML ({exc.__class__.__name__}).") from None

    def objects(self):
        objects, saw_list = [], False
        for number, document in enumerate(self.documents(), start=1):
            if not isinstance(document, dict):
                raise SourceError(
                    "bad-file",
                    f"Document {number} is not a Kubernetes object (it is a {type(document).__name__}). "
                    "Paste the output of kubectl get ... -o yaml.",
                )
            is_list = str(document.get("kind", "")).endswith("List")
            saw_list = saw_list or is_list
            items = document.get("items") if is_list else [document]
            list_kind = str(document.get("kind", "")).removesuffix("List")
            for item in items or []:
                if not isinstance(item, dict):
                    raise SourceError("bad-file", f"Document {number} holds an item that is not a Kubernetes object.")
                item = dict(item)
                item.setdefault("kind", list_kind)
                if (
                    not item.get("kind")
                    or not isinstance(item.get("metadata"), dict)
                    or not item["metadata"].get("name")
                ):
                    raise SourceError(
                        "bad-file",
                        f"Document {number} holds an object without kind or metadata.name; paste complete objects.",
                    )
                if item["kind"] not in NEVER_READ_KINDS:
                    objects.append(item)
                if len(objects) > MAX_OBJECTS:
                    raise SourceError(
                        "bad-file", f"More than {MAX_OBJECTS} objects were pasted; paste only this lab's."
                    )
        # An empty List is a real answer (`kubectl get` found nothing); no objects and no List is not.
        if not objects and not saw_list:
            raise SourceError("bad-file", "No Kubernetes objects were found in what you pasted.")
        return objects

    def snapshot(self, kinds, namespace=None):
        objects = self.objects()
        namespaces = [item["metadata"].get("namespace") for item in objects if item["metadata"].get("namespace")]
        found = namespace or (max(set(namespaces), key=namespaces.count) if namespaces else "default")
        chosen = [item for item in objects if item["metadata"].get("namespace") in (None, found)]
        return Snapshot.from_objects(found, chosen)


# --- The live API ---


@dataclass(frozen=True)
class KindEndpoint:
    api: str  # class name in kubernetes.client
    method: str  # the list method of that class
    api_version: str
    plural: str
    group: str = ""
    namespaced: bool = True


ENDPOINTS = {
    "Pod": KindEndpoint("CoreV1Api", "list_namespaced_pod", "v1", "pods"),
    "Service": KindEndpoint("CoreV1Api", "list_namespaced_service", "v1", "services"),
    "ServiceAccount": KindEndpoint("CoreV1Api", "list_namespaced_service_account", "v1", "serviceaccounts"),
    "ConfigMap": KindEndpoint("CoreV1Api", "list_namespaced_config_map", "v1", "configmaps"),
    "ResourceQuota": KindEndpoint("CoreV1Api", "list_namespaced_resource_quota", "v1", "resourcequotas"),
    "LimitRange": KindEndpoint("CoreV1Api", "list_namespaced_limit_range", "v1", "limitranges"),
    "Deployment": KindEndpoint("AppsV1Api", "list_namespaced_deployment", "apps/v1", "deployments", "apps"),
    "ReplicaSet": KindEndpoint("AppsV1Api", "list_namespaced_replica_set", "apps/v1", "replicasets", "apps"),
    "StatefulSet": KindEndpoint("AppsV1Api", "list_namespaced_stateful_set", "apps/v1", "statefulsets", "apps"),
    "DaemonSet": KindEndpoint("AppsV1Api", "list_namespaced_daemon_set", "apps/v1", "daemonsets", "apps"),
    "Job": KindEndpoint("BatchV1Api", "list_namespaced_job", "batch/v1", "jobs", "batch"),
    "CronJob": KindEndpoint("BatchV1Api", "list_namespaced_cron_job", "batch/v1", "cronjobs", "batch"),
    "Role": KindEndpoint(
        "RbacAuthorizationV1Api",
        "list_namespaced_role",
        "rbac.authorization.k8s.io/v1",
        "roles",
        "rbac.authorization.k8s.io",
    ),
    "RoleBinding": KindEndpoint(
        "RbacAuthorizationV1Api",
        "list_namespaced_role_binding",
        "rbac.authorization.k8s.io/v1",
        "rolebindings",
        "rbac.authorization.k8s.io",
    ),
    "ClusterRole": KindEndpoint(
        "RbacAuthorizationV1Api",
        "list_cluster_role",
        "rbac.authorization.k8s.io/v1",
        "clusterroles",
        "rbac.authorization.k8s.io",
        namespaced=False,
    ),
}
# Cluster-wide kinds a run can do without: when the portal may not read them, the check says so.
OPTIONAL_KINDS = {"ClusterRole"}


@dataclass
class ClusterSettings:
    kubeconfig: str = ""
    context: str = ""
    in_cluster: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 5.0

    @classmethod
    def from_django(cls):
        return cls(
            kubeconfig=settings.SANDBOX_KUBECONFIG,
            context=settings.SANDBOX_CONTEXT,
            in_cluster=settings.SANDBOX_IN_CLUSTER,
            connect_timeout=settings.SANDBOX_CONNECT_TIMEOUT,
            read_timeout=settings.SANDBOX_READ_TIMEOUT,
        )

    @property
    def configured(self):
        return bool(self.kubeconfig) or self.in_cluster


def cluster_configured():
    return ClusterSettings.from_django().configured


class ClusterSource:
    """Reads one namespace through the official client: each needed kind listed once, concurrently."""

    kind = "api"

    def __init__(self, cluster_settings=None, *, context=None):
        self.settings = cluster_settings or ClusterSettings.from_django()
        if not self.settings.configured:
            raise ImproperlyConfigured(
                "No cluster is configured for sandbox checks: set SANDBOX_KUBECONFIG (and SANDBOX_CONTEXT) "
                "or SANDBOX_IN_CLUSTER=true."
            )
        self.context = context or self.settings.context or None
        self.api_calls = 0

    def _api_client(self):
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        configuration = client.Configuration()
        try:
            if self.settings.in_cluster and not self.settings.kubeconfig:
                config.load_incluster_config(client_configuration=configuration)
            else:
                if not Path(self.settings.kubeconfig).is_file():
                    raise ConfigException(f"kubeconfig {self.settings.kubeconfig} does not exist")
                config.load_kube_config(
                    config_file=self.settings.kubeconfig,
                    context=self.context,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (ConfigException, OSError, ValueError, TypeError, yaml.YAMLError) as exc:
            raise SourceError(
                "not-configured",
                "The portal's connection to the cluster is not set up correctly. Tell your administrator; "
                "meanwhile you can paste kubectl output instead.",
                detail=f"kubeconfig/context could not be loaded: {exc}",
            ) from None
        # Retries must be off before the ApiClient exists: a slow API must answer "timeout" once, quickly.
        configuration.retries = False
        return client.ApiClient(configuration)

    def snapshot(self, kinds, namespace):
        from kubernetes import client

        started = time.perf_counter()
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        with self._api_client() as api_client:
            self._call(
                lambda: client.CoreV1Api(api_client).read_namespace(
                    namespace, _preload_content=False, _request_timeout=timeout
                ),
                verb="get",
                resource="namespaces",
                namespace=namespace,
            )
            snapshot = Snapshot(namespace=namespace)
            wanted = [kind for kind in dict.fromkeys(kinds) if kind in ENDPOINTS]
            with ThreadPoolExecutor(max_workers=min(8, max(len(wanted), 1)), thread_name_prefix="sandbox-list") as pool:
                futures = {
                    kind: pool.submit(self._list, client, api_client, ENDPOINTS[kind], namespace, timeout)
                    for kind in wanted
                }
                for kind, future in futures.items():
                    try:
                        items = future.result()
                    except SourceError as error:
                        if kind in OPTIONAL_KINDS and error.code == "forbidden":
                            snapshot.unreadable[kind] = error.message
                            continue
                        raise
                    for item in items:
                        item.setdefault("kind", kind)
                        item.setdefault("apiVersion", ENDPOINTS[kind].api_version)
                        snapshot.add(item)
        logger.info(
            "sandbox snapshot of %s: %d objects, %d API calls, %.0f ms",
            namespace,
            snapshot.count(),
            self.api_calls,
            1000 * (time.perf_counter() - started),
        )
        return snapshot

    def _list(self, client, api_client, endpoint, namespace, timeout):
        method = getattr(getattr(client, endpoint.api)(api_client), endpoint.method)
        args = (namespace,) if endpoint.namespaced else ()
        response = self._call(
            lambda: method(*args, _preload_content=False, _request_timeout=timeout),
            verb="list",
            resource=endpoint.plural,
            namespace=namespace if endpoint.namespaced else None,
            group=endpoint.group,
        )
        try:
            return json.loads(response.data).get("items") or []
        except (ValueError, AttributeError):
            raise SourceError(
                "server-error", "The Kubernetes API answered with something that is not JSON. Try again in a minute."
            ) from None

    def _call(self, request, *, verb, resource, namespace, group=""):
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import (
            ConnectTimeoutError,
            MaxRetryError,
            NewConnectionError,
            ProtocolError,
            ReadTimeoutError,
            SSLError,
        )

        self.api_calls += 1
        try:
            return request()
        except ApiException as exc:
            if not exc.status:
                # With retries off the client reports transport failures (e.g. TLS) as status 0.
                raise _connection_error(exc.reason or exc) from None
            raise _api_error(exc, verb=verb, resource=resource, namespace=namespace, group=group) from None
        except MaxRetryError as exc:
            raise _connection_error(exc.reason) from None
        except (ReadTimeoutError, ConnectTimeoutError, TimeoutError) as exc:
            raise _connection_error(exc) from None
        except (SSLError, NewConnectionError, ProtocolError, ConnectionError, OSError) as exc:
            raise _connection_error(exc) from None


def _connection_error(reason):
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError, SSLError

    text = str(reason)
    refused = isinstance(reason, (NewConnectionError, ConnectionRefusedError)) and "timed out" not in text
    # NewConnectionError is a subclass of ConnectTimeoutError, so a refused connection is sorted out first.
    if not refused and (
        isinstance(reason, (ReadTimeoutError, ConnectTimeoutError, TimeoutError)) or "timed out" in text
    ):
        return SourceError(
            "timeout",
            "The Kubernetes API did not answer in time. It may be busy or far away: try again in a minute.",
            detail=text,
        )
    if isinstance(reason, SSLError) or "SSL" in text or "certificate" in text.lower():
        return SourceError(
            "tls",
            "The portal could not set up a secure (TLS) connection to the Kubernetes API. Tell your administrator: "
            "the cluster's certificate or address in the portal's kubeconfig may be wrong.",
            detail=text,
        )
    return SourceError(
        "unreachable",
        "The portal cannot reach the Kubernetes API right now. Check that your cluster is running; "
        "meanwhile you can paste kubectl output instead.",
        detail=text,
    )


def _api_error(exc, *, verb, resource, namespace, group):
    status = exc.status or 0
    try:
        server_message = json.loads(exc.body or "{}").get("message", "")
    except (ValueError, AttributeError):
        server_message = ""
    where = f' in the namespace "{namespace}"' if namespace else " across the cluster"
    if status == 401:
        return SourceError(
            "unauthorized",
            "The Kubernetes API did not accept the portal's credentials (401 Unauthorized). Tell your administrator: "
            "the token or certificate in the portal's kubeconfig may have expired.",
            detail=server_message,
        )
    if status == 403:
        api_group = f' in the API group "{group}"' if group else ""
        return SourceError(
            "forbidden",
            f"The portal is not allowed to {verb} {resource}{api_group}{where} (403 Forbidden). "
            "Ask your administrator to grant it read access with the portal's ClusterRole.",
            detail=server_message,
        )
    if status == 404 and resource == "namespaces":
        return SourceError(
            "namespace-not-found",
            f'The namespace "{namespace}" does not exist in the cluster. Create it with '
            f"`kubectl create namespace {namespace}` or ask your administrator which namespace is yours.",
            detail=server_message,
        )
    if status == 429:
        return SourceError(
            "server-error",
            "The Kubernetes API is too busy right now (429). Try again in a minute.",
            detail=server_message,
        )
    return SourceError(
        "server-error",
        f"The Kubernetes API answered with an error ({status} {exc.reason or ''}). Try again in a minute; "
        "if it keeps happening, tell your administrator.".replace(" )", ")"),
        detail=server_message or str(exc),
    )
