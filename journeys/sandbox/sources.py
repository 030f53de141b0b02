"""Where a lab's objects come from: the live Kubernetes API, or output a learner pasted.

This is the only module that imports the `kubernetes` client. A learner never supplies a server:
the cluster is whatever the operator configured (SANDBOX_KUBECONFIG + SANDBOX_CONTEXT, or the
portal's in-cluster ServiceAccount). Every failure becomes a SourceError whose message is written
for the learner; the operator-facing detail goes to the log.
"""

import json
import logging
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .reading import MAX_OBJECTS, ReadError, read_documents
from .shapes import describe_object, found, object_problems
from .snapshot import Snapshot

logger = logging.getLogger(__name__)

MAX_PASTE_BYTES = 1024 * 1024
NEVER_READ_KINDS = {"Secret"}  # the portal never keeps Secret data, even when a learner pastes it


class SourceError(Exception):
    """Objects could not be read. ``code`` is stable (for logs and tests); ``message`` is for the learner."""

    def __init__(self, code, message, *, detail=""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail or message

    @property
    def is_input_problem(self):
        """True when what the learner sent is at fault (not the cluster or the portal's connection)."""
        return self.code in INPUT_PROBLEMS


INPUT_PROBLEMS = {"bad-file", "too-large"}
# How many objects with a wrong shape a refusal names; the rest are counted.
PROBLEMS_SHOWN = 5


# --- Pasted or uploaded output ---


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
            # A character is at most 4 bytes: only a long text needs the exact count.
            if len(text) * 4 > MAX_PASTE_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_PASTE_BYTES:
                raise SourceError(
                    "too-large", "The pasted text is larger than 1 MiB. Paste only the objects of this lab."
                )
            return text
        if self.upload.size is not None and self.upload.size > MAX_PASTE_BYTES:
            raise SourceError("too-large", "The file is larger than 1 MiB. Upload only the objects of this lab.")
        data = self.upload.read(MAX_PASTE_BYTES + 1)
        if len(data) > MAX_PASTE_BYTES:
            raise SourceError("too-large", "The file is larger than 1 MiB. Upload only the objects of this lab.")
        return decode_text(data, what="The file")

    def documents(self):
        try:
            return read_documents(self._text())
        except ReadError as error:
            raise SourceError(error.code, error.message) from None

    def objects(self):
        objects, saw_list, refused = [], False, Refusals()
        for number, document in enumerate(self.documents(), start=1):
            where = f"Document {number}" + (f" (line {document.line})" if document.line > 1 else "")
            data = document.data
            if not isinstance(data, dict):
                raise SourceError("bad-file", _not_an_object(where, data))
            kind = data.get("kind")
            if kind is not None and not isinstance(kind, str):
                refused.add(f"{where}: `kind` must be text such as CronJob, found {found(kind)}")
                continue
            is_list = kind is not None and kind.endswith("List") and "items" in data
            if not is_list:
                items = [(where, data)]
            else:
                saw_list = True
                if not isinstance(data["items"], list):
                    raise SourceError(
                        "bad-file", f"{where} is a {kind}, but its `items` is {found(data['items'])}, not a list."
                    )
                lines = document.item_lines
                items = [
                    (
                        f"Item {index} of {where.lower()}"
                        + (f" (line {lines[index - 1]})" if index <= len(lines) else ""),
                        item,
                    )
                    for index, item in enumerate(data["items"], start=1)
                ]
            list_kind = kind.removesuffix("List") if is_list else ""
            for item_where, item in items:
                if not isinstance(item, dict):
                    raise SourceError("bad-file", _not_an_object(item_where, item))
                if list_kind and "kind" not in item:
                    item["kind"] = list_kind
                if not item.get("kind"):
                    refused.add(f"{item_where}: `kind` is missing; every object says what it is (kind: CronJob)")
                    continue
                problems = object_problems(item)
                if problems.total:
                    more = (
                        f" (and {problems.total - len(problems.items)} more)"
                        if problems.total > len(problems.items)
                        else ""
                    )
                    refused.add(f"{item_where}, {describe_object(item)}: " + "; ".join(problems.items) + more)
                    continue
                if item["kind"] not in NEVER_READ_KINDS:
                    objects.append(item)
                if len(objects) > MAX_OBJECTS:
                    raise SourceError(
                        "too-large", f"More than {MAX_OBJECTS:,} objects were pasted; paste only this lab's."
                    )
        if refused.count:
            raise SourceError("bad-file", refused.message())
        # An empty List is a real answer (`kubectl get` found nothing); no objects and no List is not.
        if not objects and not saw_list:
            raise SourceError("bad-file", "No Kubernetes objects were found in what you pasted.")
        return objects

    def snapshot(self, kinds, namespace=None):
        objects = self.objects()
        namespaces = [item["metadata"].get("namespace") for item in objects if item["metadata"].get("namespace")]
        # The namespace most objects name; a tie goes to the first in alphabetical order, so the same
        # paste gets the same verdict in every process (a set's order changes from one to the next).
        counts = Counter(namespaces)
        found_namespace = namespace or (min(counts, key=lambda name: (-counts[name], name)) if counts else "default")
        chosen = [item for item in objects if item["metadata"].get("namespace") in (None, found_namespace)]
        return Snapshot.from_objects(found_namespace, chosen)


def decode_text(data, *, what):
    """Bytes of an upload or a file as text: UTF-8, with or without a byte-order mark.

    ``what`` names the input at the start of the message, e.g. "The file" or "the file dump.yaml".
    """
    try:
        # Editors on Windows save UTF-8 with a byte order mark; it is not part of the YAML.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            "bad-file",
            f"{what} is not UTF-8 text (line {line} holds a byte that is not UTF-8). Save kubectl's output as "
            "UTF-8 text (for example `kubectl get ... -o yaml > dump.yaml`) and try again.",
        ) from None


def _not_an_object(where, data):
    if isinstance(data, str):
        return (
            f"{where} is plain text, not Kubernetes objects. Paste the output of `kubectl get <kind> -o yaml`: "
            "it starts with `apiVersion:` and `kind:`."
        )
    return (
        f"{where} is {found(data)}, not a Kubernetes object. Paste the output of `kubectl get <kind> -o yaml`: "
        "each object is a mapping with apiVersion, kind and metadata."
    )


class Refusals:
    """Objects refused for their shape: every one counted, the first few named."""

    def __init__(self):
        self.shown, self.count = [], 0

    def add(self, sentence):
        self.count += 1
        if len(self.shown) < PROBLEMS_SHOWN:
            self.shown.append(sentence)

    def message(self):
        more = self.count - len(self.shown)
        listed = "\n".join(f"- {line}" for line in self.shown)
        tail = f"\n… and {more:,} more object{'s' if more != 1 else ''} like these." if more > 0 else ""
        return (
            "Some objects are not written the way Kubernetes reads them, so they cannot be checked:\n"
            f"{listed}{tail}\nFix these fields (`kubectl apply` would refuse them too), or paste unmodified kubectl output."
        )


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


def api_client_for(kubeconfig, context, *, in_cluster):
    """An ApiClient for a kubeconfig (and context), or the pod's in-cluster identity, with retries off.

    Raises SourceError("not-configured") when the configuration cannot be loaded; provisioning.py builds
    its own identity's client here too, so both identities are loaded the same way.
    """
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    configuration = client.Configuration()
    try:
        if in_cluster and not kubeconfig:
            config.load_incluster_config(client_configuration=configuration)
        else:
            if not Path(kubeconfig).is_file():
                raise ConfigException(f"kubeconfig {kubeconfig} does not exist")
            config.load_kube_config(
                config_file=kubeconfig, context=context, client_configuration=configuration, persist_config=False
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
        return api_client_for(self.settings.kubeconfig, self.context, in_cluster=self.settings.in_cluster)

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
                        problems = object_problems(item)
                        if problems.total:
                            # An API server never sends these; a proxy or an extension in front of it might.
                            raise SourceError(
                                "server-error",
                                f"The Kubernetes API returned {describe_object(item)} in a shape the checks cannot "
                                "read. Tell your administrator; meanwhile you can paste kubectl output instead.",
                                detail="; ".join(problems.items),
                            )
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
            items = json.loads(response.data).get("items") or []
        except (ValueError, AttributeError, RecursionError):
            items = None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise SourceError(
                "server-error",
                "The Kubernetes API answered with something that is not a list of objects. "
                "Try again in a minute; if it keeps happening, tell your administrator.",
            )
        return items

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
