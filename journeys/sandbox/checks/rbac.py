"""Lab least-privilege: ServiceAccount reporter, Role pod-reader (read pods, nothing more), bound, and used.

Effective permissions are computed from the namespace's RoleBindings and the Roles and ClusterRoles
they reference; `*` in a rule stands for every group, resource or verb.
"""

from ..report import ERROR, CheckResult
from ..snapshot import WORKLOAD_KINDS
from .common import described, exists_check, listing, metadata, missing, pod_spec, requires, result

LESSON = "serviceaccounts-and-rbac"
LAB = f"{LESSON}#lab-least-privilege"
ACCOUNT, ROLE = "reporter", "pod-reader"
READ_VERBS = {"get", "list", "watch"}
# Built-in ClusterRoles a namespace dump rarely includes, and what they are known to grant.
BUILT_IN_CLUSTER_ROLES = {
    "view": "reads most objects",
    "edit": "changes most objects",
    "admin": "manages the namespace",
    "cluster-admin": "does anything",
}


def _rules(snapshot, role_ref):
    """(rules, problem) for a roleRef; problem explains what could not be read."""
    kind, name = role_ref.get("kind"), role_ref.get("name")
    found = snapshot.get(kind, name)
    if found is None:
        if kind == "ClusterRole" and name in BUILT_IN_CLUSTER_ROLES:
            return None, f"the built-in ClusterRole {name} ({BUILT_IN_CLUSTER_ROLES[name]})"
        return None, f"{kind} {name} could not be read"
    return found.get("rules") or [], None


def rule_allows(rule, verb, group, resource):
    """Whether a rule grants ``verb`` on every object of ``resource``: one limited by resourceNames grants it only on
    the objects it names (and never a plain list or watch)."""
    return (
        not rule.get("resourceNames")
        and ("*" in rule.get("verbs", []) or verb in rule.get("verbs", []))
        and ("*" in rule.get("apiGroups", []) or group in rule.get("apiGroups", []))
        and ("*" in rule.get("resources", []) or resource in rule.get("resources", []))
    )


def beyond_pod_reading(rule):
    """What a rule grants beyond get/list/watch on pods, in words (empty when nothing)."""
    extra = []
    verbs, resources, groups = (
        set(rule.get("verbs", [])),
        set(rule.get("resources", [])),
        set(rule.get("apiGroups", [])),
    )
    if rule.get("nonResourceURLs"):
        extra.append(f"URLs {listing(rule['nonResourceURLs'], ', ')}")
    if "*" in verbs or verbs - READ_VERBS:
        extra.append(f"verbs {listing(sorted(verbs - READ_VERBS) or ['*'], ', ')}")
    if "*" in resources or resources - {"pods"}:
        extra.append(f"resources {listing(sorted(resources - {'pods'}) or ['*'], ', ')}")
    if "*" in groups or groups - {""}:
        extra.append(f"API groups {listing(sorted(repr(group) for group in groups - {''}) or ['*'], ', ')}")
    return extra


def bindings_for_account(snapshot):
    bindings = []
    for binding in snapshot.of_kind("RoleBinding"):
        for subject in binding.get("subjects") or []:
            same_namespace = subject.get("namespace", snapshot.namespace) == snapshot.namespace
            if subject.get("kind") == "ServiceAccount" and subject.get("name") == ACCOUNT and same_namespace:
                bindings.append(binding)
                break
    return bindings


serviceaccount_exists = exists_check(
    "serviceaccount-exists",
    "ServiceAccount",
    ACCOUNT,
    hint="Apply a manifest with kind: ServiceAccount and metadata.name: reporter.",
    teaches=f"{LESSON}#serviceaccounts",
)


role_exists = exists_check(
    "role-exists",
    "Role",
    ROLE,
    hint="Apply a Role (apiVersion rbac.authorization.k8s.io/v1) named pod-reader.",
    teaches=f"{LESSON}#roles-and-rules",
)


@requires(
    "Role", ROLE, "role-grants-pod-read-only", "pod-reader reads pods and nothing more", teaches=LAB,
    looks_for="one rule granting `get`, `list` and `watch` on `pods` in the core API group, and nothing else",
)  # fmt: skip
def role_grants_pod_read_only(snapshot, found):
    rules = found.get("rules") or []
    lacking = sorted(verb for verb in READ_VERBS if not any(rule_allows(rule, verb, "", "pods") for rule in rules))
    extra = [item for rule in rules for item in beyond_pod_reading(rule)]
    narrowed = (
        " on every Pod (a rule with resourceNames covers only the Pods it names)"
        if any(rule.get("resourceNames") for rule in rules)
        else ""
    )
    problems = ([f"missing verbs {', '.join(lacking)}{narrowed}"] if lacking else []) + [
        f"also grants {item}" for item in extra
    ]
    return result(
        "role-grants-pod-read-only", "pod-reader reads pods and nothing more", not problems,
        expected='one rule: apiGroups [""], resources [pods], verbs [get, list, watch]', actual=listing(problems) or "exactly that",
        hint="Write one rule with apiGroups [\"\"], resources [pods] and the three verbs by name, without `*` or resourceNames: "
        "least privilege means granting only what the workload uses.",
        teaches=f"{LESSON}#roles-and-rules",
    )  # fmt: skip


@described(
    "rolebinding", "A RoleBinding gives pod-reader to reporter",
    "a RoleBinding whose roleRef is the Role `pod-reader` and whose subject is the ServiceAccount `reporter`",
)  # fmt: skip
def rolebinding(snapshot):
    bound = [
        binding for binding in bindings_for_account(snapshot)
        if (binding.get("roleRef") or {}).get("kind") == "Role" and (binding.get("roleRef") or {}).get("name") == ROLE
    ]  # fmt: skip
    others = [metadata(binding).get("name") for binding in snapshot.of_kind("RoleBinding")]
    return result(
        "rolebinding", "A RoleBinding gives pod-reader to reporter", bool(bound),
        expected="a RoleBinding with roleRef Role pod-reader and subject ServiceAccount reporter",
        actual=f"bound by {metadata(bound[0]).get('name')}" if bound else f"RoleBindings here: {listing(others, ', ') or 'none'}",
        hint="`kubectl create rolebinding reporter-pod-reader --role=pod-reader --serviceaccount=<namespace>:reporter "
        "--dry-run=client -o yaml` writes one you can save and apply.",
        teaches=f"{LESSON}#bindings",
    )  # fmt: skip


@described(
    "effective-permissions", "reporter can read pods and do nothing else",
    "every binding that names `reporter` added up: `get`, `list` and `watch` on Pods, and nothing more",
)  # fmt: skip
def effective_permissions(snapshot):
    # Bindings grouped by the role they grant: a role's rules are read once, however many bindings
    # repeat it (a thousand bindings of a role of a thousand rules is a million otherwise).
    by_role = {}
    for binding in bindings_for_account(snapshot):
        role_ref = binding.get("roleRef") or {}
        by_role.setdefault((role_ref.get("kind"), role_ref.get("name")), []).append(metadata(binding).get("name"))
    granted, problems, unreadable = [], [], []
    for (kind, role_name), binding_names in by_role.items():
        rules, problem = _rules(snapshot, {"kind": kind, "name": role_name})
        who = f"RoleBinding {listing(binding_names, ', ')}"
        if problem and problem.startswith("the built-in"):
            problems.append(f"{who} grants {problem}")
        elif problem:
            unreadable.append(f"{who}: {problem}")
        else:
            granted += rules
            extra = list(dict.fromkeys(item for rule in rules for item in beyond_pod_reading(rule)))
            if extra:
                problems.append(f"{who} grants {listing(extra)}")
    if unreadable and not problems:
        return CheckResult(
            "effective-permissions", "reporter can read pods and do nothing else", ERROR,
            expected="get, list and watch on pods only", actual=listing(unreadable),
            hint="Include the referenced Roles and ClusterRoles in what you paste (kubectl get clusterrole NAME -o yaml), "
            "or ask your administrator to let the portal read ClusterRoles.",
            teaches=f"{LESSON}#permissions-only-add-up",
        )  # fmt: skip
    lacking = sorted(verb for verb in READ_VERBS if not any(rule_allows(rule, verb, "", "pods") for rule in granted))
    hint = "Permissions add up across every binding: remove any other RoleBinding that names reporter."
    if lacking:
        problems.insert(0, f"cannot {', '.join(lacking)} pods")
        if len(problems) == 1:
            hint = "Bind reporter to a Role that grants get, list and watch on pods: pod-reader, once its own check passes."
    return result(
        "effective-permissions", "reporter can read pods and do nothing else", not problems,
        expected="get, list and watch on pods only", actual=listing(problems) or "exactly that",
        hint=hint,
        teaches=f"{LESSON}#permissions-only-add-up",
    )  # fmt: skip


@described(
    "workload-uses-serviceaccount", "A workload named reporter runs as reporter",
    "a workload named `reporter` (a Deployment, say) whose pod template sets `serviceAccountName: reporter`",
)  # fmt: skip
def workload_uses_serviceaccount(snapshot):
    workloads = [snapshot.get(kind, ACCOUNT) for kind in (*WORKLOAD_KINDS, "Pod")]
    workloads = [workload for workload in workloads if workload is not None]
    if not workloads:
        return missing(
            "workload-uses-serviceaccount", "A workload named reporter runs as reporter", "workload", ACCOUNT,
            hint="Create a Deployment named reporter whose pod template sets serviceAccountName: reporter.", teaches=LAB,
        )  # fmt: skip
    accounts = {
        f"{workload['kind']} reporter": pod_spec(workload).get("serviceAccountName")
        or pod_spec(workload).get("serviceAccount")
        or "default"
        for workload in workloads
    }
    uses = any(account == ACCOUNT for account in accounts.values())
    return result(
        "workload-uses-serviceaccount", "A workload named reporter runs as reporter", uses,
        expected="serviceAccountName: reporter in the pod template",
        actual=listing(f"{name} runs as {account}" for name, account in accounts.items()),
        hint="Set spec.template.spec.serviceAccountName: reporter and apply; without it Pods run as the default ServiceAccount.",
        teaches=f"{LESSON}#serviceaccounts",
    )  # fmt: skip


CHECKS = [
    serviceaccount_exists, role_exists, role_grants_pod_read_only, rolebinding, effective_permissions,
    workload_uses_serviceaccount,
]  # fmt: skip
WORKLOADS = [(kind, ACCOUNT) for kind in WORKLOAD_KINDS]
