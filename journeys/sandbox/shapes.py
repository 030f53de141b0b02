"""The shape every object must have before a check or an advisory reads it.

The checks read fields such as `spec.template.spec.containers[0].resources.requests.cpu` and trust
that a mapping is a mapping and a number a number. Objects from the API server always are; a
hand-edited paste may hold `spec: 5` or `name: [a]`. This module walks exactly the fields the
checks read, once, and names each wrong one in the words the API server would use, in plain
English: "`spec` must be a mapping, found the number 5". Fields that are set to null count as not
set (they are removed), as Kubernetes treats them. Everything else in an object is left alone.
"""

import re
from dataclasses import dataclass

# A field whose value is `null` is treated as absent, the way the API server treats it.
_ABSENT = object()
NAME_MAX = 253
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
PORT_NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Longest text a field the checks show may hold; real values are far shorter.
TEXT_MAX = 4096


def shortened(text, limit=60):
    """Text as a message may show it: at most ``limit`` characters, control characters replaced.

    Cut first: a label key or a value can be 1 MiB long, and only its start is ever shown.
    """
    text = str(text)
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return CONTROL_CHARACTERS.sub("?", cut)


def found(value):
    """What a value is, in words: "the number 5", "a list", "the text "web""."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a yes/no value)"
    if isinstance(value, int) and value.bit_length() > 64:
        return "a number larger than any Kubernetes field holds"
    if isinstance(value, (int, float)):
        return f"the number {shortened(value, 20)}"
    if isinstance(value, str):
        return f'the text "{shortened(value, 40)}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def shown_key(key):
    """A key of a learner's mapping as a message may show it: a label key can be 1 MiB long."""
    return shortened(key, 40)


# --- Field kinds ---


@dataclass(frozen=True)
class Text:
    max_length: int = TEXT_MAX
    what: str = "text"

    def check(self, value, path, problems):
        if not isinstance(value, str):
            problems.add(path, f"must be {self.what}", value)
        elif len(value) > self.max_length:
            problems.add(
                path, f"must be at most {self.max_length:,} characters long", None, f"{len(value):,} characters"
            )


@dataclass(frozen=True)
class Name:
    """metadata.name: text of at most 253 characters, without control characters."""

    def check(self, value, path, problems):
        if not isinstance(value, str) or not value:
            problems.add(path, "must be the object's name (text)", value)
        elif len(value) > NAME_MAX or CONTROL_CHARACTERS.search(value):
            problems.add(path, f"must be a name of at most {NAME_MAX} letters, digits, '-' and '.'", value)


@dataclass(frozen=True)
class Namespace:
    def check(self, value, path, problems):
        if not isinstance(value, str) or not NAMESPACE_PATTERN.match(value):
            problems.add(path, "must be a namespace name: at most 63 lower-case letters, digits and '-'", value)


@dataclass(frozen=True)
class Whole:
    """A whole number (not true/false, which YAML also reads as numbers in some languages)."""

    def check(self, value, path, problems):
        if isinstance(value, bool) or not isinstance(value, int):
            hint = "; remove the quotes" if isinstance(value, str) and value.strip().isdigit() else ""
            problems.add(path, "must be a whole number" + hint, value)


@dataclass(frozen=True)
class Flag:
    def check(self, value, path, problems):
        if not isinstance(value, bool):
            problems.add(path, "must be true or false", value)


@dataclass(frozen=True)
class Quantity:
    """A resource quantity: text such as 500m or 64Mi, or a plain number."""

    def check(self, value, path, problems):
        wrong_type = isinstance(value, bool) or not isinstance(value, (str, int, float))
        if wrong_type or (isinstance(value, str) and len(value) > 64):
            problems.add(path, "must be a quantity such as 500m or 64Mi", value)


@dataclass(frozen=True)
class Port:
    """A port: a number, or the name of a declared port."""

    def check(self, value, path, problems):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            problems.add(path, "must be a port number or a port name", value)
        elif isinstance(value, str) and not _digits(value) and not PORT_NAME_PATTERN.match(value):
            problems.add(path, "must be a port number or a port name (up to 15 lower-case letters, digits, '-')", value)
        elif isinstance(value, str) and value.isdigit() and len(value) > 5:
            problems.add(path, "must be a port number (1 to 65535)", value)


def _digits(text):
    return text.isascii() and text.isdigit()


@dataclass(frozen=True)
class AnyMapping:
    def check(self, value, path, problems):
        if not isinstance(value, dict):
            problems.add(path, "must be a mapping", value)


@dataclass(frozen=True)
class Fields:
    """A mapping whose named fields have shapes; other fields are left alone."""

    fields: dict

    def check(self, value, path, problems):
        if not isinstance(value, dict):
            problems.add(path, "must be a mapping", value)
            return
        for key, shape in self.fields.items():
            if key not in value:
                continue
            if value[key] is None:
                del value[key]
                continue
            shape.check(value[key], f"{path}.{key}" if path else key, problems)
            if problems.full:
                return

    def extended(self, **more):
        return Fields({**self.fields, **more})


@dataclass(frozen=True)
class ListOf:
    item: object

    def check(self, value, path, problems):
        if not isinstance(value, list):
            problems.add(path, "must be a list", value)
            return
        for index, entry in enumerate(value):
            self.item.check(entry, f"{path}[{index}]", problems)
            if problems.full:
                return


@dataclass(frozen=True)
class MapOf:
    """A mapping of any keys to values of one shape (labels, requests, a quota's hard limits)."""

    value: object

    def check(self, value, path, problems):
        if not isinstance(value, dict):
            problems.add(path, "must be a mapping", value)
            return
        for key in [key for key, entry in value.items() if entry is None]:
            del value[key]
        for key, entry in value.items():
            self.value.check(entry, f"{path}.{shown_key(key)}", problems)
            if problems.full:
                return


# --- What the checks read, kind by kind ---

TEXT, WHOLE, FLAG, QUANTITY, PORT, ANY = Text(), Whole(), Flag(), Quantity(), Port(), AnyMapping()
TEXTS = ListOf(TEXT)
# Annotations hold whole files (last-applied-configuration); their size is bounded by the paste's.
ANNOTATIONS = MapOf(Text(max_length=2**20))
LABELS = MapOf(TEXT)

METADATA = Fields({
    "name": Name(),
    "namespace": Namespace(),
    "labels": LABELS,
    "annotations": ANNOTATIONS,
    "uid": TEXT,
    "ownerReferences": ListOf(Fields({"kind": TEXT, "name": TEXT, "uid": TEXT, "apiVersion": TEXT, "controller": FLAG})),
    "managedFields": ListOf(Fields({"manager": TEXT, "operation": TEXT, "time": TEXT, "apiVersion": TEXT, "fieldsV1": ANY})),
})  # fmt: skip
CONDITIONS = ListOf(Fields({"type": TEXT, "status": TEXT, "reason": TEXT, "message": TEXT}))
PROBE = Fields({
    "httpGet": Fields({"port": PORT, "path": TEXT, "scheme": TEXT}),
    "tcpSocket": Fields({"port": PORT}),
    "grpc": Fields({"port": WHOLE, "service": TEXT}),
    "exec": Fields({"command": TEXTS}),
    "failureThreshold": WHOLE, "successThreshold": WHOLE, "periodSeconds": WHOLE,
    "initialDelaySeconds": WHOLE, "timeoutSeconds": WHOLE,
})  # fmt: skip
SECCOMP = Fields({"type": TEXT})
SECURITY_CONTEXT = Fields({
    "runAsNonRoot": FLAG, "allowPrivilegeEscalation": FLAG, "readOnlyRootFilesystem": FLAG, "runAsUser": WHOLE,
    "capabilities": Fields({"drop": TEXTS, "add": TEXTS}), "seccompProfile": SECCOMP,
})  # fmt: skip
POD_SECURITY_CONTEXT = Fields({"runAsNonRoot": FLAG, "runAsUser": WHOLE, "seccompProfile": SECCOMP})
CONFIG_MAP_REFERENCE = Fields({"name": TEXT, "key": TEXT, "optional": FLAG})
CONTAINER = Fields({
    "name": TEXT,
    "image": TEXT,
    "command": TEXTS,
    "args": TEXTS,
    "env": ListOf(Fields({"name": TEXT, "value": TEXT, "valueFrom": Fields({"configMapKeyRef": CONFIG_MAP_REFERENCE})})),
    "envFrom": ListOf(Fields({"configMapRef": CONFIG_MAP_REFERENCE, "prefix": TEXT})),
    "ports": ListOf(Fields({"containerPort": WHOLE, "name": TEXT, "protocol": TEXT})),
    "resources": Fields({"requests": MapOf(QUANTITY), "limits": MapOf(QUANTITY)}),
    "readinessProbe": PROBE, "livenessProbe": PROBE, "startupProbe": PROBE,
    "securityContext": SECURITY_CONTEXT,
    "volumeMounts": ListOf(Fields({"name": TEXT, "mountPath": TEXT})),
})  # fmt: skip
POD_SPEC = Fields({
    "containers": ListOf(CONTAINER),
    "initContainers": ListOf(CONTAINER),
    "serviceAccountName": TEXT,
    "serviceAccount": TEXT,
    "automountServiceAccountToken": FLAG,
    "restartPolicy": TEXT,
    "securityContext": POD_SECURITY_CONTEXT,
    "nodeSelector": LABELS,
    "volumes": ListOf(Fields({"name": TEXT, "emptyDir": ANY})),
    "tolerations": ListOf(Fields({"key": TEXT, "operator": TEXT, "value": TEXT, "effect": TEXT, "tolerationSeconds": WHOLE})),
})  # fmt: skip
POD_TEMPLATE = Fields({"metadata": Fields({"labels": LABELS, "annotations": ANNOTATIONS}), "spec": POD_SPEC})
SELECTOR = Fields({
    "matchLabels": LABELS,
    "matchExpressions": ListOf(Fields({"key": TEXT, "operator": TEXT, "values": TEXTS})),
})  # fmt: skip
REPLICA_STATUS = Fields({
    "replicas": WHOLE, "readyReplicas": WHOLE, "availableReplicas": WHOLE, "updatedReplicas": WHOLE,
    "currentReplicas": WHOLE, "conditions": CONDITIONS,
})  # fmt: skip
WORKLOAD_SPEC = Fields({"replicas": WHOLE, "selector": SELECTOR, "template": POD_TEMPLATE})
JOB_SPEC = Fields({
    "completions": WHOLE, "parallelism": WHOLE, "backoffLimit": WHOLE, "activeDeadlineSeconds": WHOLE,
    "ttlSecondsAfterFinished": WHOLE, "selector": SELECTOR, "template": POD_TEMPLATE,
})  # fmt: skip
RULES = ListOf(
    Fields({"apiGroups": TEXTS, "resources": TEXTS, "verbs": TEXTS, "resourceNames": TEXTS, "nonResourceURLs": TEXTS})
)

CONTAINER_STATE = Fields({
    "waiting": Fields({"reason": TEXT, "message": TEXT}),
    "running": ANY,
    "terminated": Fields({"reason": TEXT, "message": TEXT, "exitCode": WHOLE}),
})  # fmt: skip
CONTAINER_STATUSES = ListOf(Fields({
    "name": TEXT, "ready": FLAG, "restartCount": WHOLE, "state": CONTAINER_STATE, "lastState": CONTAINER_STATE,
}))  # fmt: skip

SPEC_AND_STATUS = {
    "Pod": (
        POD_SPEC,
        Fields({
            "phase": TEXT, "conditions": CONDITIONS,
            "containerStatuses": CONTAINER_STATUSES, "initContainerStatuses": CONTAINER_STATUSES,
        }),
    ),
    "Deployment": (WORKLOAD_SPEC, REPLICA_STATUS),
    "ReplicaSet": (WORKLOAD_SPEC, REPLICA_STATUS),
    "StatefulSet": (
        WORKLOAD_SPEC.extended(
            serviceName=TEXT,
            volumeClaimTemplates=ListOf(Fields({"metadata": Fields({"name": TEXT}), "spec": ANY})),
        ),
        REPLICA_STATUS,
    ),
    "DaemonSet": (
        Fields({"selector": SELECTOR, "template": POD_TEMPLATE}),
        Fields({
            "desiredNumberScheduled": WHOLE, "numberReady": WHOLE, "currentNumberScheduled": WHOLE,
            "numberAvailable": WHOLE, "updatedNumberScheduled": WHOLE, "conditions": CONDITIONS,
        }),
    ),
    "Job": (JOB_SPEC, Fields({"succeeded": WHOLE, "failed": WHOLE, "active": WHOLE, "conditions": CONDITIONS})),
    "CronJob": (
        Fields({
            "schedule": Text(max_length=200), "timeZone": TEXT, "concurrencyPolicy": TEXT,
            "startingDeadlineSeconds": WHOLE, "suspend": FLAG,
            "successfulJobsHistoryLimit": WHOLE, "failedJobsHistoryLimit": WHOLE,
            "jobTemplate": Fields({"metadata": Fields({"labels": LABELS, "annotations": ANNOTATIONS}), "spec": JOB_SPEC}),
        }),
        ANY,
    ),
    "Service": (
        Fields({
            "clusterIP": TEXT, "type": TEXT, "selector": LABELS,
            "ports": ListOf(Fields({"port": WHOLE, "targetPort": PORT, "name": TEXT, "protocol": TEXT})),
        }),
        ANY,
    ),
    "ResourceQuota": (Fields({"hard": MapOf(QUANTITY)}), Fields({"hard": MapOf(QUANTITY), "used": MapOf(QUANTITY)})),
    "LimitRange": (
        Fields({"limits": ListOf(Fields({
            "type": TEXT, "default": MapOf(QUANTITY), "defaultRequest": MapOf(QUANTITY),
            "max": MapOf(QUANTITY), "min": MapOf(QUANTITY),
        }))}),
        ANY,
    ),
}  # fmt: skip
OTHER_FIELDS = {
    # Only which keys a ConfigMap holds is read, never the values.
    "ConfigMap": {"data": ANY},
    "Role": {"rules": RULES},
    "ClusterRole": {"rules": RULES, "aggregationRule": ANY},
    "RoleBinding": {
        "roleRef": Fields({"kind": TEXT, "name": TEXT, "apiGroup": TEXT}),
        "subjects": ListOf(Fields({"kind": TEXT, "name": TEXT, "namespace": TEXT, "apiGroup": TEXT})),
    },
}
BASE = {"kind": Text(max_length=100), "apiVersion": Text(max_length=200), "metadata": METADATA}
OBJECT_SHAPES = {
    kind: Fields({**BASE, "spec": spec_shape, "status": status_shape}) for kind, (spec_shape, status_shape) in SPEC_AND_STATUS.items()
} | {kind: Fields({**BASE, "spec": ANY, **fields}) for kind, fields in OTHER_FIELDS.items()}  # fmt: skip
ANY_OBJECT = Fields({**BASE, "spec": ANY, "status": ANY})


# --- Checking ---


class Problems:
    """Problems found so far, at most ``limit`` kept; ``total`` counts them all (up to a bound)."""

    def __init__(self, limit=5):
        self.limit = limit
        self.items = []
        self.total = 0

    def add(self, path, rule, value, shown=None):
        self.total += 1
        if len(self.items) < self.limit:
            self.items.append(f"`{path}` {rule}, found {shown or found(value)}")

    @property
    def full(self):
        # Counting stops a little past the limit: a paste of 5,000 broken objects costs no more than one.
        return self.total > self.limit


def object_problems(item, *, limit=3):
    """Check one object (a dict with kind and metadata) in place; return its problems as sentences."""
    problems = Problems(limit)
    if not isinstance(item.get("metadata"), dict) or "name" not in item["metadata"]:
        problems.add("metadata.name", "is required: every object has a name", item.get("metadata"))
        return problems
    shape = OBJECT_SHAPES.get(item.get("kind")) if isinstance(item.get("kind"), str) else None
    (shape or ANY_OBJECT).check(item, "", problems)
    return problems


def describe_object(item):
    """'CronJob backup' for messages, as far as the object's own kind and name can be shown."""
    kind = item.get("kind") if isinstance(item.get("kind"), str) and len(item.get("kind")) <= 100 else "object"
    name = (item.get("metadata") or {}).get("name") if isinstance(item.get("metadata"), dict) else None
    if isinstance(name, str) and 0 < len(name) <= NAME_MAX and not CONTROL_CHARACTERS.search(name):
        return f"{kind} {name}"
    return f"a {kind} without a readable name" if kind != "object" else "an object"
