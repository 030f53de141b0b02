"""The shipped RBAC, proven with tokens against the emulator (which authorises by the RBAC objects it holds).

The provisioner provisions sandboxes with exactly deploy/rbac/sandbox-provisioner.yaml; a learner's token
from a sandbox can do every lab there (each reference solution applies) and nothing outside it; and the
guard ResourceQuota and LimitRange are out of the learner's reach.
"""

import kubernetes_validate
import pytest
import yaml

from journeys.sandbox.labs import SOLUTIONS_DIR
from journeys.sandbox.provisioning import GUARD_NAME, MANAGED_BY, MANAGED_BY_LABEL, Provisioner
from tests.sandbox.provisioning_support import (
    LEARNER_MANIFEST,
    LEARNER_POLICY_MANIFEST,
    POLICY_MANIFEST,
    PROVISIONER_MANIFEST,
    PROVISIONER_TOKEN,
    call,
    load_rbac,
    manifest_documents,
    path_for,
    provisioner_settings,
)

pytest_plugins = ["tests.k8s_emulator"]

ACCESS_REVIEW_PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

ADA, BOB = "learn-ada", "learn-bob"


def solution_objects():
    objects = []
    for path in sorted(SOLUTIONS_DIR.glob("*.yaml")):
        objects += [document for document in yaml.safe_load_all(path.read_text(encoding="utf-8")) if document]
    return objects


@pytest.fixture
def sandboxes(kube_emulator, tmp_path):
    load_rbac(kube_emulator)
    provisioner = Provisioner(provisioner_settings(kube_emulator, tmp_path))
    for namespace in (ADA, BOB):
        provisioner.create(namespace)
    return kube_emulator, provisioner.credentials(ADA).token


def test_every_lab_solution_applies_with_a_learners_token(sandboxes):
    emulator, token = sandboxes
    objects = solution_objects()
    assert {obj["kind"] for obj in objects} >= {"Role", "RoleBinding", "ResourceQuota", "LimitRange", "CronJob"}

    for obj in objects:
        status, answer = call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)
        assert status == 201, (obj["kind"], obj["metadata"]["name"], answer.get("message"))
    for obj in objects:
        status, _ = call(emulator, token, "GET", path_for(obj["kind"], ADA, obj["metadata"]["name"]))
        assert status == 200


def test_a_helm_release_and_the_team_quota_lab_can_be_changed_and_removed(sandboxes):
    emulator, token = sandboxes
    release = {
        "kind": "Secret",
        "metadata": {"name": "sh.helm.release.v1.web.v1", "labels": {"owner": "helm", "name": "web"}},
        "type": "helm.sh/release.v1",
        "data": {"release": "H4sI"},
    }
    quota = {"kind": "ResourceQuota", "metadata": {"name": "team-quota"}, "spec": {"hard": {"pods": "5"}}}
    defaults = {"kind": "LimitRange", "metadata": {"name": "team-defaults"}, "spec": {"limits": []}}

    for obj in (release, quota, defaults):
        assert call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)[0] == 201
    patch = {"spec": {"hard": {"pods": "10"}}}
    assert call(emulator, token, "PATCH", path_for("ResourceQuota", ADA, "team-quota"), patch,
                content_type="application/merge-patch+json")[0] == 200  # fmt: skip
    for obj in (release, quota, defaults):
        assert call(emulator, token, "DELETE", path_for(obj["kind"], ADA, obj["metadata"]["name"]))[0] == 200


@pytest.mark.parametrize("kind", ["ResourceQuota", "LimitRange"])
def test_the_guards_cannot_be_removed_or_loosened(sandboxes, kind):
    emulator, token = sandboxes
    path = path_for(kind, ADA, GUARD_NAME)
    status, guard = call(emulator, token, "GET", path)
    assert status == 200, "the learner may read the guard, to see their limits"
    before = emulator.get(kind, GUARD_NAME, ADA)

    loosened = {**guard, "spec": {"hard": {"pods": "100000"}} if kind == "ResourceQuota" else {"limits": []}}
    attempts = [
        ("DELETE", path, None, "application/json"),
        ("PUT", path, loosened, "application/json"),
        ("PATCH", path, {"spec": loosened["spec"]}, "application/merge-patch+json"),
        ("PATCH", path, [{"op": "remove", "path": "/spec"}], "application/json-patch+json"),
        ("POST", path_for(kind, ADA), {"kind": kind, "metadata": {"name": GUARD_NAME}, "spec": {}}, "application/json"),
    ]
    for method, target, body, content_type in attempts:
        status, answer = call(emulator, token, method, target, body, content_type=content_type)
        assert status in (403, 409), (method, status)
        if status == 403:
            assert f"cannot {'update' if method == 'PUT' else method.lower()} resource" in answer["message"]
    assert emulator.get(kind, GUARD_NAME, ADA) == before


def test_nothing_outside_the_learners_namespace_is_reachable(sandboxes):
    emulator, token = sandboxes
    denied = [
        ("GET", path_for("Pod", BOB)),
        ("GET", path_for("Secret", BOB)),
        ("GET", path_for("Namespace", name=BOB)),
        ("GET", path_for("Pod")),  # every namespace at once
        ("GET", path_for("Namespace")),
        ("DELETE", path_for("Namespace", name=ADA)),  # not even its own namespace
        ("DELETE", path_for("ResourceQuota", BOB, GUARD_NAME)),
        ("POST", path_for("ConfigMap", BOB)),
        ("POST", path_for("ServiceAccount", ADA, "learner", "token")),  # no new tokens for itself
        ("GET", path_for("ClusterRole")),
    ]
    for method, path in denied:
        body = {"kind": "ConfigMap", "metadata": {"name": "x"}} if method == "POST" else None
        status, answer = call(emulator, token, method, path, body)
        assert status == 403, (method, path, status)
        assert 'User "system:serviceaccount:learn-ada:learner"' in answer["message"]
    assert call(emulator, token, "GET", path_for("Namespace", name=ADA))[0] == 200


@pytest.mark.parametrize(
    "obj",
    [
        {
            "kind": "RoleBinding",
            "metadata": {"name": "me-admin"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "kube-journeys-provisioner",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "learner"}],
        },
        {
            "kind": "Role",
            "metadata": {"name": "everything"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
        },
        {
            "kind": "Role",
            "metadata": {"name": "guard-editor"},
            "rules": [{"apiGroups": [""], "resources": ["resourcequotas"], "verbs": ["delete"]}],
        },
    ],
    ids=["bind-a-stronger-role", "write-a-wildcard-role", "write-a-role-that-reaches-the-guard"],
)
def test_a_learner_cannot_grant_itself_more(sandboxes, obj):
    emulator, token = sandboxes
    status, answer = call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)

    assert status == 403
    assert "attempting to grant RBAC permissions not currently held" in answer["message"]


def test_the_provisioner_cannot_read_or_impersonate_in_a_sandbox(sandboxes):
    emulator, _ = sandboxes
    emulator.add({"kind": "ServiceAccount", "metadata": {"name": "reporter", "namespace": ADA}})
    for method, path in [
        ("GET", path_for("Secret", ADA)),
        ("GET", path_for("Pod", ADA)),
        ("POST", path_for("ServiceAccount", ADA, "reporter", "token")),
        ("DELETE", path_for("ResourceQuota", ADA, "team-quota")),
    ]:
        status, _ = call(emulator, PROVISIONER_TOKEN, method, path, {} if method == "POST" else None)
        assert status == 403, (method, path)


def test_the_learner_role_names_no_guard_and_grants_no_escalation():
    [role] = manifest_documents(LEARNER_MANIFEST)
    for rule in role["rules"]:
        assert GUARD_NAME not in rule.get("resourceNames", [])
        assert not {"escalate", "bind", "*"} & set(rule["verbs"])
        if "impersonate" in rule["verbs"]:  # only the sandbox's own ServiceAccounts, for `kubectl auth can-i --as`
            assert (rule["apiGroups"], rule["resources"], rule["verbs"]) == ([""], ["serviceaccounts"], ["impersonate"])
        assert "*" not in rule["apiGroups"] and "*" not in rule["resources"]
        if {"update", "patch", "delete"} & set(rule["verbs"]):
            assert not {"resourcequotas", "limitranges"} & set(rule["resources"]) or rule.get("resourceNames")


@pytest.mark.parametrize(
    "path",
    [LEARNER_MANIFEST, PROVISIONER_MANIFEST, POLICY_MANIFEST, LEARNER_POLICY_MANIFEST],
    ids=lambda path: path.name,
)
def test_the_manifests_are_valid_kubernetes(path):
    for document in manifest_documents(path):
        kubernetes_validate.validate(document, "1.32.0", strict=True)


def test_the_admission_policy_binds_the_provisioner_to_the_portals_namespaces():
    policy, binding = manifest_documents(POLICY_MANIFEST)
    [account] = [doc for doc in manifest_documents(PROVISIONER_MANIFEST) if doc["kind"] == "ServiceAccount"]
    username = f"system:serviceaccount:{account['metadata']['namespace']}:{account['metadata']['name']}"

    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert policy["spec"]["failurePolicy"] == "Fail"
    assert f'"{username}"' in policy["spec"]["matchConditions"][0]["expression"]
    assert {"DELETE", "CREATE", "UPDATE"} == set(policy["spec"]["matchConstraints"]["resourceRules"][0]["operations"])
    variables = {item["name"]: item["expression"] for item in policy["spec"]["variables"]}
    assert variables["label"] == f'"{MANAGED_BY_LABEL}"'
    assert all(f'== "{MANAGED_BY}"' in rule["expression"] for rule in policy["spec"]["validations"])


def can_i(emulator, token, verb, resource, namespace, *, group="", acting_as=None):
    attributes = {"verb": verb, "group": group, "resource": resource, "namespace": namespace}
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "spec": {"resourceAttributes": attributes}}  # fmt: skip
    status, answer = call(emulator, token, "POST", ACCESS_REVIEW_PATH, review, acting_as=acting_as)
    allowed = answer["status"]["allowed"] if status == 201 else None
    return status, allowed, answer


def test_a_learner_checks_what_their_own_service_account_may_do(sandboxes):
    """The RBAC lesson's `kubectl auth can-i list pods --as=system:serviceaccount:<ns>:reporter -n <ns>`."""
    emulator, token = sandboxes
    reporter = f"system:serviceaccount:{ADA}:reporter"
    account = {"kind": "ServiceAccount", "metadata": {"name": "reporter"}}
    role = {
        "kind": "Role",
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
    }
    binding = {
        "kind": "RoleBinding",
        "metadata": {"name": "reporter-reads-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "reporter"}],
    }
    assert call(emulator, token, "POST", path_for("ServiceAccount", ADA), account)[0] == 201
    assert can_i(emulator, token, "list", "pods", ADA, acting_as=reporter)[:2] == (201, False)

    for obj in (role, binding):
        assert call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)[0] == 201

    assert can_i(emulator, token, "list", "pods", ADA, acting_as=reporter)[:2] == (201, True)
    assert can_i(emulator, token, "delete", "pods", ADA, acting_as=reporter)[:2] == (201, False)
    assert can_i(emulator, token, "create", "deployments", ADA, group="apps")[:2] == (201, True)  # as the learner


@pytest.mark.parametrize(
    "someone",
    [
        f"system:serviceaccount:{BOB}:learner",
        "system:serviceaccount:kube-journeys:kube-journeys-provisioner",
        "admin",
    ],
    ids=["another-learner", "the-provisioner", "a-user"],
)
def test_a_learner_cannot_act_as_anyone_outside_their_sandbox(sandboxes, someone):
    emulator, token = sandboxes

    status, _, answer = can_i(emulator, token, "list", "pods", BOB, acting_as=someone)

    assert status == 403
    assert "cannot impersonate resource" in answer["message"]
