"""RBAC for the test Kubernetes API emulator: who a request is, and whether the Roles it holds allow it.

Follows the apiserver's RBAC authoriser closely enough to test least-privilege manifests: rules match
on apiGroups, resources (with ``resource/subresource``), verbs and resourceNames, a "*" matches
anything, Roles are bound by RoleBindings in their namespace and ClusterRoles by either binding kind.
It also applies the escalation checks that make ``bind`` and ``escalate`` matter: a Role may only
grant what its author holds, and a binding only what its author holds or may ``bind``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()
    # The emulator's own credentials keep the old behaviour: allowed everything, no RBAC consulted.
    superuser: bool = False


def service_account_identity(namespace: str, name: str) -> Identity:
    return Identity(
        f"system:serviceaccount:{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
    )


@dataclass(frozen=True)
class Request:
    verb: str
    group: str
    resource: str  # "pods", or "serviceaccounts/token" for a subresource
    namespace: str | None
    name: str | None


# Looks stored objects up: (plural, namespace or None for every namespace) -> objects.
Lookup = Callable[[str, "str | None"], Iterable[dict]]


def _has(values: Iterable[str] | None, value: str) -> bool:
    values = list(values or ())
    return "*" in values or value in values


def rule_allows(rule: dict, request: Request) -> bool:
    if not _has(rule.get("verbs"), request.verb) or not _has(rule.get("apiGroups"), request.group):
        return False
    resources = list(rule.get("resources") or ())
    resource_matches = _has(resources, request.resource)
    if not resource_matches and "/" in request.resource:
        resource_matches = "*/" + request.resource.split("/", 1)[1] in resources
    if not resource_matches:
        return False
    names = rule.get("resourceNames") or []
    # A rule limited to names never matches a request without one (create, list).
    return not names or (request.name is not None and request.name in names)


def subject_matches(subject: dict, identity: Identity, binding_namespace: str | None) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == identity.user
    if kind == "Group":
        return name in identity.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return identity.user == f"system:serviceaccount:{namespace}:{name}"
    return False


def _role_rules(lookup: Lookup, role_ref: dict, namespace: str | None) -> list[dict]:
    kind, name = role_ref.get("kind"), role_ref.get("name")
    if kind == "ClusterRole":
        candidates = lookup("clusterroles", None)
    elif kind == "Role" and namespace:
        candidates = lookup("roles", namespace)
    else:
        return []
    for role in candidates:
        if role["metadata"]["name"] == name:
            return list(role.get("rules") or [])
    return []


def rules_for(lookup: Lookup, identity: Identity, namespace: str | None) -> list[dict]:
    """Every rule that applies to ``identity`` for requests in ``namespace`` (None: cluster scope)."""
    rules: list[dict] = []
    for binding in lookup("clusterrolebindings", None):
        if any(subject_matches(s, identity, None) for s in binding.get("subjects") or []):
            rules += _role_rules(lookup, binding.get("roleRef") or {}, None)
    if namespace:
        for binding in lookup("rolebindings", namespace):
            if any(subject_matches(s, identity, namespace) for s in binding.get("subjects") or []):
                rules += _role_rules(lookup, binding.get("roleRef") or {}, namespace)
    return rules


def allowed(lookup: Lookup, identity: Identity, request: Request) -> bool:
    if identity.superuser:
        return True
    return any(rule_allows(rule, request) for rule in rules_for(lookup, identity, request.namespace))


def missing_rules(lookup: Lookup, identity: Identity, namespace: str | None, rules: list[dict]) -> list[str]:
    """What of ``rules`` the identity does not hold itself (empty: it may grant them)."""
    if identity.superuser:
        return []
    held = rules_for(lookup, identity, namespace)
    missing = []
    for rule in rules:
        if rule.get("nonResourceURLs"):
            continue
        for group in rule.get("apiGroups") or []:
            for resource in rule.get("resources") or []:
                for verb in rule.get("verbs") or []:
                    for name in rule.get("resourceNames") or [None]:
                        request = Request(verb, group, resource, namespace, name)
                        # "*" is only covered by a "*": holding every named verb is not holding all verbs.
                        if not any(rule_allows(h, request) for h in held):
                            missing.append(f"{{APIGroups:[{group!r}], Resources:[{resource!r}], Verbs:[{verb!r}]}}")
    return missing


def escalation_problem(lookup: Lookup, identity: Identity, plural: str, namespace: str | None, obj: dict) -> str:
    """Why creating or updating this Role/ClusterRole/binding would be an escalation ("" when it is not)."""
    if identity.superuser:
        return ""
    scope = namespace if plural in ("roles", "rolebindings") else None
    if plural in ("roles", "clusterroles"):
        escalate = Request("escalate", RBAC_GROUP, plural, scope, obj["metadata"]["name"])
        if allowed(lookup, identity, escalate):
            return ""
        missing = missing_rules(lookup, identity, scope, list(obj.get("rules") or []))
        if missing:
            return f"user {identity.user!r} is attempting to grant RBAC permissions not currently held: " + "; ".join(
                missing
            )
        return ""
    role_ref = obj.get("roleRef") or {}
    ref_plural = "clusterroles" if role_ref.get("kind") == "ClusterRole" else "roles"
    bind = Request("bind", RBAC_GROUP, ref_plural, scope, role_ref.get("name"))
    if allowed(lookup, identity, bind):
        return ""
    if missing_rules(lookup, identity, scope, _role_rules(lookup, role_ref, scope)):
        return (
            f"user {identity.user!r} is attempting to grant RBAC permissions not currently held "
            f"(through {role_ref.get('kind')} {role_ref.get('name')!r}) and may not bind it"
        )
    return ""
