"""ValidatingAdmissionPolicies for the test Kubernetes API emulator, evaluated as the apiserver would.

The emulator holds policies and bindings like any other object; a write is checked against every
binding whose ``validationActions`` include Deny. What is followed, closely enough to test the policies
the project ships: ``matchConstraints`` (resource rules, operations, a namespace selector), the binding's
``matchResources`` namespace selector, ``matchConditions``, ``variables`` and ``validations`` with their
``message`` and ``reason``; ``failurePolicy`` decides what a CEL error means. The expressions run in
cel-python, a CEL implementation, with the variables the apiserver gives them (``object``,
``oldObject``, ``request``, ``namespaceObject``, ``variables``); a property named like a CEL keyword
(``namespace``) is reached as ``__namespace__``, as in Kubernetes, and selecting it by its plain name is
an error there, so it is one here too (the request's attributes, ``request.namespace``, keep theirs).
Not emulated: params, ``authorizer``, object selectors, ``messageExpression`` and audit annotations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import celpy

from tests.k8s_rbac import Identity

ADMISSION_GROUP = "admissionregistration.k8s.io"
# What a failed validation answers when it names no reason (the apiserver's default).
_STATUS_FOR_REASON = {"Invalid": 422, "Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413}


@dataclass(frozen=True)
class AdmissionRequest:
    operation: str  # CREATE, UPDATE or DELETE
    group: str
    version: str
    kind: str
    plural: str
    namespace: str  # "" for a cluster-scoped object
    name: str
    identity: Identity
    obj: dict | None  # the object as it will be; None on DELETE
    old: dict | None  # the object as it was; None on CREATE


@dataclass(frozen=True)
class Denial:
    status: int
    reason: str
    message: str


Lookup = Callable[[str, "str | None"], Iterable[dict]]


class _CelError(Exception):
    pass


# CEL's reserved words that Kubernetes escapes as __word__ when they name an object's property.
_RESERVED = {
    "true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if",
    "import", "let", "loop", "package", "namespace", "return", "var", "void", "while",
}  # fmt: skip
# The request's own attributes are declared by the apiserver under their plain names (request.namespace).
_RESERVED_SELECTION = re.compile(r"(?<!\brequest)\.\s*(" + "|".join(sorted(_RESERVED)) + r")\b")


@cache
def _program(expression: str) -> celpy.Runner:
    if match := _RESERVED_SELECTION.search(expression):
        raise _CelError(f"{expression!r}: {match.group(1)!r} is reserved in CEL; select it as __{match.group(1)}__")
    environment = celpy.Environment()
    return environment.program(environment.compile(expression))


def _escaped(value: Any) -> Any:
    """The JSON value with every property named like a reserved word also reachable as __word__."""
    if isinstance(value, dict):
        escaped = {key: _escaped(item) for key, item in value.items()}
        for key in _RESERVED & value.keys():
            escaped[f"__{key}__"] = escaped[key]
        return escaped
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


def _evaluate(expression: str, activation: dict[str, Any]) -> Any:
    try:
        result = _program(expression).evaluate(activation)
    except (celpy.CELEvalError, celpy.CELParseError) as exc:
        raise _CelError(f"{expression!r}: {exc}") from exc
    if isinstance(result, celpy.CELEvalError):
        raise _CelError(f"{expression!r}: {result}")
    return result


def _selector_matches(selector: dict | None, labels: dict[str, str]) -> bool:
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for term in selector.get("matchExpressions") or []:
        key, operator, values = term["key"], term["operator"], term.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _rule_matches(rule: dict, request: AdmissionRequest) -> bool:
    def has(field: str, value: str) -> bool:
        values = rule.get(field) or []
        return "*" in values or value in values

    return (
        has("apiGroups", request.group)
        and has("apiVersions", request.version)
        and has("operations", request.operation)
        and has("resources", request.plural)
    )


def _namespace_labels(lookup: Lookup, request: AdmissionRequest) -> dict[str, str]:
    if request.plural == "namespaces" and request.group == "":
        # A Namespace is matched by its own labels (as it will be, or as it was when deleted).
        return ((request.obj or request.old or {}).get("metadata") or {}).get("labels") or {}
    namespace = _namespace_object(lookup, request)
    return ((namespace or {}).get("metadata") or {}).get("labels") or {}


def _namespace_object(lookup: Lookup, request: AdmissionRequest) -> dict | None:
    if not request.namespace:
        return None
    return next((ns for ns in lookup("namespaces", None) if ns["metadata"]["name"] == request.namespace), None)


def _applies(policy: dict, binding: dict, lookup: Lookup, request: AdmissionRequest) -> bool:
    constraints = policy["spec"].get("matchConstraints") or {}
    if not any(_rule_matches(rule, request) for rule in constraints.get("resourceRules") or []):
        return False
    if any(_rule_matches(rule, request) for rule in constraints.get("excludeResourceRules") or []):
        return False
    labels = _namespace_labels(lookup, request)
    scoped = request.namespace or request.plural == "namespaces"
    binding_resources = binding["spec"].get("matchResources") or {}
    selectors = (constraints.get("namespaceSelector"), binding_resources.get("namespaceSelector"))
    return all(not scoped or _selector_matches(selector, labels) for selector in selectors)


def _activation(lookup: Lookup, request: AdmissionRequest) -> dict[str, Any]:
    cel_request = {
        "operation": request.operation,
        "kind": {"group": request.group, "version": request.version, "kind": request.kind},
        "resource": {"group": request.group, "version": request.version, "resource": request.plural},
        "name": request.name,
        "namespace": request.namespace,
        "userInfo": {"username": request.identity.user, "groups": list(request.identity.groups)},
    }
    return {
        "object": celpy.json_to_cel(_escaped(request.obj)),
        "oldObject": celpy.json_to_cel(_escaped(request.old)),
        "request": celpy.json_to_cel(cel_request),
        "namespaceObject": celpy.json_to_cel(_escaped(_namespace_object(lookup, request))),
        "params": celpy.json_to_cel(None),
    }


def _denial(policy: dict, binding: dict, request: AdmissionRequest, message: str, reason: str) -> Denial:
    what = f"{request.plural}.{request.group}" if request.group else request.plural
    text = (
        f"{what} \"{request.name}\" is forbidden: ValidatingAdmissionPolicy '{policy['metadata']['name']}' "
        f"with binding '{binding['metadata']['name']}' denied request: {message}"
    )
    return Denial(_STATUS_FOR_REASON.get(reason, 422), reason, text)


def _check(policy: dict, binding: dict, lookup: Lookup, request: AdmissionRequest) -> Denial | None:
    spec = policy["spec"]
    activation = _activation(lookup, request)
    try:
        for condition in spec.get("matchConditions") or []:
            if not bool(_evaluate(condition["expression"], activation)):
                return None
        variables: dict[str, Any] = {}
        for variable in spec.get("variables") or []:
            activation["variables"] = _as_cel_map(variables)  # a variable may use the ones before it
            variables[variable["name"]] = _evaluate(variable["expression"], activation)
        activation["variables"] = _as_cel_map(variables)
        for validation in spec.get("validations") or []:
            if not bool(_evaluate(validation["expression"], activation)):
                message = validation.get("message") or f"failed expression: {validation['expression'].strip()}"
                return _denial(policy, binding, request, message, validation.get("reason") or "Invalid")
    except _CelError as exc:
        if spec.get("failurePolicy", "Fail") == "Ignore":
            return None
        return _denial(policy, binding, request, f"expression failed: {exc}", "Invalid")
    return None


def _as_cel_map(values: dict[str, Any]) -> celpy.celtypes.MapType:
    return celpy.celtypes.MapType({celpy.celtypes.StringType(name): value for name, value in values.items()})


def admission_denial(lookup: Lookup, request: AdmissionRequest) -> Denial | None:
    """The first Deny binding whose policy refuses the request, or None when every policy admits it."""
    policies = {policy["metadata"]["name"]: policy for policy in lookup("validatingadmissionpolicies", None)}
    for binding in lookup("validatingadmissionpolicybindings", None):
        policy = policies.get(binding["spec"].get("policyName", ""))
        if policy is None or "Deny" not in (binding["spec"].get("validationActions") or []):
            continue
        if not _applies(policy, binding, lookup, request):
            continue
        if denial := _check(policy, binding, lookup, request):
            return denial
    return None
