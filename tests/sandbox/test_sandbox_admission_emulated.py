"""The shipped admission policies, in force in the emulator (which evaluates their CEL as the apiserver does).

deploy/rbac/sandbox-provisioner-policy.yaml holds the provisioner to the portal's namespaces; the
learner policy keeps never-expiring token Secrets out of a sandbox, the portal's ServiceAccount and
RoleBinding in it, and the learner's own bindings to the sandbox's ServiceAccounts. Provisioning itself
(create, reset, delete) works with both in force.
"""

import pytest

from journeys.sandbox.provisioning import (
    MANAGED_BY,
    MANAGED_BY_LABEL,
    ROLE_BINDING,
    SERVICE_ACCOUNT,
    TERMINATING,
    Provisioner,
    ProvisioningError,
)
from tests.sandbox.provisioning_support import PROVISIONER_TOKEN, call, load_rbac, path_for, provisioner_settings

pytest_plugins = ["tests.k8s_emulator"]

ADA = "learn-ada"
OPERATOR_TOKEN = "operator-token"
TOKEN_SECRET = {
    "kind": "Secret",
    "metadata": {"name": "forever", "annotations": {"kubernetes.io/service-account.name": SERVICE_ACCOUNT}},
    "type": "kubernetes.io/service-account-token",
}


@pytest.fixture
def cluster(kube_emulator, tmp_path):
    load_rbac(kube_emulator)
    # An operator with every right, subject to admission like anyone: the policies must leave them alone.
    kube_emulator.add({
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "operator"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "everything"},
        "subjects": [{"kind": "User", "name": "operator"}],
    })  # fmt: skip
    kube_emulator.add({
        "kind": "ClusterRole",
        "metadata": {"name": "everything"},
        "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
    })  # fmt: skip
    kube_emulator.add_token(OPERATOR_TOKEN, "operator", ("system:authenticated",))
    provisioner = Provisioner(provisioner_settings(kube_emulator, tmp_path))
    provisioner.create(ADA)
    return kube_emulator, provisioner, provisioner.credentials(ADA).token


def namespace(name, labels=None):
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


# --- The provisioner ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, why",
    [
        (namespace("kube-system-2", {MANAGED_BY_LABEL: MANAGED_BY}), "named learn-"),
        (namespace("learn-eve"), "named learn-"),
        (namespace("learn-eve", {MANAGED_BY_LABEL: "someone-else"}), "named learn-"),
    ],
    ids=["other-prefix", "no-label", "other-label"],
)
def test_the_provisioner_creates_only_the_portals_namespaces(cluster, body, why):
    emulator, _, _ = cluster
    status, answer = call(emulator, PROVISIONER_TOKEN, "POST", path_for("Namespace"), body)

    assert status == 403, answer
    assert "ValidatingAdmissionPolicy 'kube-journeys-provisioner-namespaces'" in answer["message"]
    assert why in answer["message"]
    assert emulator.get("Namespace", body["metadata"]["name"]) is None


def test_the_provisioner_cannot_delete_or_take_over_a_namespace_it_did_not_create(cluster):
    emulator, _, _ = cluster
    emulator.add_namespace("learn-team")  # the prefix, but not the portal's label
    take_over = {"metadata": {"labels": {MANAGED_BY_LABEL: MANAGED_BY}}}

    deleted = call(emulator, PROVISIONER_TOKEN, "DELETE", path_for("Namespace", name="learn-team"))
    labelled = call(emulator, PROVISIONER_TOKEN, "PATCH", path_for("Namespace", name="learn-team"), take_over,
                    content_type="application/merge-patch+json")  # fmt: skip

    for status, answer in (deleted, labelled):
        assert status == 403
        assert "may only change or delete namespaces it created" in answer["message"]
    assert MANAGED_BY_LABEL not in emulator.get("Namespace", "learn-team")["metadata"]["labels"]
    assert "deletionTimestamp" not in emulator.get("Namespace", "learn-team")["metadata"]


def test_a_template_the_policy_does_not_allow_is_explained_to_learner_and_operator(cluster):
    """The operator changed SANDBOX_NAMESPACE_TEMPLATE to lab-{username} but not the policy's prefix."""
    emulator, provisioner, _ = cluster

    with pytest.raises(ProvisioningError) as refused:
        provisioner.create("lab-ada")

    assert refused.value.code == "policy"
    assert refused.value.message.startswith("The cluster's rules for sandboxes refused this change")
    assert "ValidatingAdmissionPolicy" not in refused.value.message  # the learner is not shown the internals
    assert "may only create namespaces named learn-" in refused.value.detail  # the operator is
    assert emulator.get("Namespace", "lab-ada") is None


def test_the_provisioner_policy_leaves_other_identities_alone(cluster):
    emulator, _, _ = cluster

    assert call(emulator, OPERATOR_TOKEN, "POST", path_for("Namespace"), namespace("team-tools"))[0] == 201
    assert call(emulator, OPERATOR_TOKEN, "DELETE", path_for("Namespace", name="team-tools"))[0] == 200


def test_provisioning_works_with_both_policies_in_force(cluster):
    emulator, provisioner, _ = cluster
    emulator.namespace_termination_seconds = 0.1

    assert provisioner.reset(ADA) != TERMINATING
    assert emulator.get("RoleBinding", ROLE_BINDING, ADA) is not None
    assert provisioner.delete(ADA) == TERMINATING


# --- The learner -------------------------------------------------------------------------------------


def test_a_learner_cannot_make_a_token_that_never_expires(cluster):
    emulator, _, token = cluster

    status, answer = call(emulator, token, "POST", path_for("Secret", ADA), TOKEN_SECRET)

    assert status == 403
    assert "kubernetes.io/service-account-token are not allowed in a sandbox" in answer["message"]
    assert "fresh kubeconfig" in answer["message"]
    assert emulator.get("Secret", "forever", ADA) is None


def test_a_learner_cannot_turn_a_secret_into_a_token_secret(cluster):
    emulator, _, token = cluster
    opaque = {"kind": "Secret", "metadata": {"name": "plain"}, "type": "Opaque", "stringData": {"a": "b"}}
    assert call(emulator, token, "POST", path_for("Secret", ADA), opaque)[0] == 201

    changed = {**opaque, "type": "kubernetes.io/service-account-token"}
    assert call(emulator, token, "PUT", path_for("Secret", ADA, "plain"), changed)[0] == 403
    assert emulator.get("Secret", "plain", ADA)["type"] == "Opaque"


@pytest.mark.parametrize(
    "kind, name",
    [("ServiceAccount", SERVICE_ACCOUNT), ("RoleBinding", ROLE_BINDING)],
    ids=["service-account", "role-binding"],
)
def test_a_learner_cannot_change_or_remove_what_their_access_rests_on(cluster, kind, name):
    emulator, _, token = cluster
    before = emulator.get(kind, name, ADA)
    path = path_for(kind, ADA, name)

    for method, body, content_type in [
        ("DELETE", None, "application/json"),
        ("PATCH", {"metadata": {"labels": {"mine": "yes"}}}, "application/merge-patch+json"),
    ]:
        status, answer = call(emulator, token, method, path, body, content_type=content_type)
        assert status == 403, (method, answer)
        assert f'"{name}" belongs to the portal' in answer["message"]
    assert emulator.get(kind, name, ADA) == before
    # Their token still works.
    assert call(emulator, token, "GET", path_for("Pod", ADA))[0] == 200


def test_a_learner_manages_their_own_accounts_and_bindings_freely(cluster):
    emulator, _, token = cluster
    account = {"kind": "ServiceAccount", "metadata": {"name": "reporter"}}
    binding = {
        "kind": "RoleBinding",
        "metadata": {"name": "reporter-reads"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kube-journeys-learner"},
        "subjects": [{"kind": "ServiceAccount", "name": "reporter", "namespace": ADA}],
    }
    for obj in (account, binding):
        assert call(emulator, token, "POST", path_for(obj["kind"], ADA), obj)[0] == 201
    for obj in (binding, account):
        assert call(emulator, token, "DELETE", path_for(obj["kind"], ADA, obj["metadata"]["name"]))[0] == 200


def learner_binding(*subjects):
    return {
        "kind": "RoleBinding",
        "metadata": {"name": "share"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kube-journeys-learner"},
        "subjects": list(subjects),
    }


@pytest.mark.parametrize(
    "subject",
    [
        {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"},
        {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "someone@example.com"},
        {"kind": "ServiceAccount", "name": "learner", "namespace": "learn-bob"},
    ],
    ids=["every-authenticated-user", "a-user", "another-learner"],
)
def test_a_learner_cannot_open_their_sandbox_to_others(cluster, subject):
    emulator, _, token = cluster
    own = {"kind": "ServiceAccount", "name": "reporter", "namespace": ADA}

    status, answer = call(emulator, token, "POST", path_for("RoleBinding", ADA), learner_binding(own, subject))

    assert status == 403
    assert "may only give rights to ServiceAccounts of this namespace" in answer["message"]
    assert emulator.get("RoleBinding", "share", ADA) is None


def test_a_learner_cannot_widen_a_binding_afterwards(cluster):
    emulator, _, token = cluster
    own = {"kind": "ServiceAccount", "name": "reporter"}
    assert call(emulator, token, "POST", path_for("RoleBinding", ADA), learner_binding(own))[0] == 201

    everyone = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}
    patch = [{"op": "add", "path": "/subjects/-", "value": everyone}]
    status, _ = call(emulator, token, "PATCH", path_for("RoleBinding", ADA, "share"), patch,
                     content_type="application/json-patch+json")  # fmt: skip

    assert status == 403
    assert emulator.get("RoleBinding", "share", ADA)["subjects"] == [own]


def test_an_operator_is_not_held_by_the_learner_policy(cluster):
    emulator, _, _ = cluster

    everyone = {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}
    assert call(emulator, OPERATOR_TOKEN, "POST", path_for("Secret", ADA), TOKEN_SECRET)[0] == 201
    assert call(emulator, OPERATOR_TOKEN, "POST", path_for("RoleBinding", ADA), learner_binding(everyone))[0] == 201
    assert call(emulator, OPERATOR_TOKEN, "DELETE", path_for("RoleBinding", ADA, ROLE_BINDING))[0] == 200


def test_the_learner_policy_holds_only_in_the_portals_namespaces(cluster):
    emulator, _, _ = cluster
    emulator.add_namespace("team-a")
    emulator.add({"kind": "ServiceAccount", "metadata": {"name": "ci", "namespace": "team-a"}})
    emulator.add({
        "kind": "RoleBinding",
        "metadata": {"name": "ci-secrets", "namespace": "team-a"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "everything"},
        "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "team-a"}],
    })  # fmt: skip
    ci_token = emulator.issue_token("team-a", "ci")

    assert call(emulator, ci_token, "POST", path_for("Secret", "team-a"), TOKEN_SECRET)[0] == 201
