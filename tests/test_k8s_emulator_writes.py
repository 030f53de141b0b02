"""The emulator's writes, Terminating namespaces, TokenRequest and RBAC, driven through the official client."""

import calendar
import json
import time

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

pytest_plugins = ["tests.k8s_emulator"]

NS = "team-a"
USER = "system:serviceaccount:team-a:worker"


def api_client(path):
    cfg = client.Configuration()
    cfg.retries = False
    config.load_kube_config(config_file=str(path), client_configuration=cfg, persist_config=False)
    return client.ApiClient(cfg)


def status_of(exc_info):
    return json.loads(exc_info.value.body)


def data(response):
    return json.loads(response.data)


@pytest.fixture
def admin(kube_emulator, kubeconfig):
    kube_emulator.add_namespace(NS)
    with api_client(kubeconfig) as api:
        yield api


@pytest.fixture
def core(admin):
    return client.CoreV1Api(admin)


@pytest.fixture
def rbac(admin):
    return client.RbacAuthorizationV1Api(admin)


def as_token(emulator, tmp_path, token):
    return api_client(emulator.write_kubeconfig(tmp_path / f"kc-{abs(hash(token))}", token=token))


# --- create, read, update, patch, delete ---


@pytest.mark.parametrize(
    ("create", "read", "body"),
    [
        ("create_namespaced_service_account", "read_namespaced_service_account", {"metadata": {"name": "worker"}}),
        (
            "create_namespaced_resource_quota",
            "read_namespaced_resource_quota",
            {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "3"}}},
        ),
        (
            "create_namespaced_limit_range",
            "read_namespaced_limit_range",
            {"metadata": {"name": "l"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}},
        ),
    ],
)
def test_create_then_read(kube_emulator, core, create, read, body):
    created = data(getattr(core, create)(NS, body, _preload_content=False))
    read_back = data(getattr(core, read)(body["metadata"]["name"], NS, _preload_content=False))

    assert created == read_back
    assert created["metadata"]["namespace"] == NS and created["metadata"]["uid"]
    assert kube_emulator.requests[-2].method == "POST"


def test_create_twice_is_already_exists(core):
    core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)

    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)

    assert exc_info.value.status == 409
    assert status_of(exc_info)["reason"] == "AlreadyExists"
    assert status_of(exc_info)["message"] == 'serviceaccounts "worker" already exists'


def test_create_in_a_missing_namespace_is_not_found(core):
    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_config_map("nowhere", {"metadata": {"name": "c"}}, _preload_content=False)

    assert exc_info.value.status == 404
    assert status_of(exc_info)["message"] == 'namespaces "nowhere" not found'


@pytest.mark.parametrize("name", ["Team", "team_a", "-a", "a" * 64])
def test_an_invalid_namespace_name_is_refused(core, name):
    with pytest.raises(ApiException) as exc_info:
        core.create_namespace({"metadata": {"name": name}}, _preload_content=False)

    assert exc_info.value.status == 422
    assert status_of(exc_info)["reason"] == "Invalid"


def test_update_list_patch_and_delete_a_quota(core):
    quota = {"metadata": {"name": "q"}, "spec": {"hard": {"pods": "3"}}}
    stored = data(core.create_namespaced_resource_quota(NS, quota, _preload_content=False))

    stored["spec"]["hard"]["pods"] = "4"
    updated = data(core.replace_namespaced_resource_quota("q", NS, stored, _preload_content=False))
    with pytest.raises(ApiException) as exc_info:
        core.replace_namespaced_resource_quota("q", NS, stored, _preload_content=False)  # a stale version
    assert exc_info.value.status == 409 and status_of(exc_info)["reason"] == "Conflict"
    patched = data(
        core.patch_namespaced_resource_quota("q", NS, {"spec": {"hard": {"cpu": "1"}}}, _preload_content=False)
    )
    json_patched = data(
        core.patch_namespaced_resource_quota(
            "q", NS, [{"op": "remove", "path": "/spec/hard/cpu"}], _preload_content=False
        )
    )
    listed = data(core.list_namespaced_resource_quota(NS, _preload_content=False))
    core.delete_namespaced_resource_quota("q", NS, _preload_content=False)

    assert updated["spec"]["hard"] == {"pods": "4"}
    assert updated["metadata"]["uid"] == stored["metadata"]["uid"]
    assert patched["spec"]["hard"] == {"pods": "4", "cpu": "1"}
    assert json_patched["spec"]["hard"] == {"pods": "4"}
    assert [item["metadata"]["name"] for item in listed["items"]] == ["q"]
    with pytest.raises(ApiException) as exc_info:
        core.read_namespaced_resource_quota("q", NS, _preload_content=False)
    assert exc_info.value.status == 404


# --- namespaces that take time to go ---


def test_a_deleted_namespace_terminates_then_goes_with_its_objects(kube_emulator, core):
    kube_emulator.namespace_termination_seconds = 0.5
    core.create_namespaced_config_map(NS, {"metadata": {"name": "c"}}, _preload_content=False)

    answer = data(core.delete_namespace(NS, _preload_content=False))
    assert answer["status"]["phase"] == "Terminating" and answer["metadata"]["deletionTimestamp"]
    assert data(core.read_namespace(NS, _preload_content=False))["status"]["phase"] == "Terminating"

    with pytest.raises(ApiException) as exc_info:
        core.create_namespace({"metadata": {"name": NS}}, _preload_content=False)
    assert exc_info.value.status == 409
    assert status_of(exc_info)["message"] == f'object is being deleted: namespaces "{NS}" already exists'
    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_config_map(NS, {"metadata": {"name": "d"}}, _preload_content=False)
    assert exc_info.value.status == 403
    assert status_of(exc_info)["details"]["causes"][0]["reason"] == "NamespaceTerminating"

    time.sleep(0.6)
    with pytest.raises(ApiException) as exc_info:
        core.read_namespace(NS, _preload_content=False)
    assert exc_info.value.status == 404
    core.create_namespace({"metadata": {"name": NS}}, _preload_content=False)
    assert data(core.list_namespaced_config_map(NS, _preload_content=False))["items"] == []


# --- TokenRequest ---


def test_a_requested_token_is_a_service_account_identity(kube_emulator, core, tmp_path):
    core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)

    answer = data(
        core.create_namespaced_service_account_token(
            "worker", NS, {"spec": {"expirationSeconds": 7200}}, _preload_content=False
        )
    )

    assert answer["kind"] == "TokenRequest" and answer["spec"]["expirationSeconds"] == 7200
    expires = calendar.timegm(time.strptime(answer["status"]["expirationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"))
    assert abs(expires - time.time() - 7200) < 5
    with as_token(kube_emulator, tmp_path, answer["status"]["token"]) as api, pytest.raises(ApiException) as exc_info:
        client.CoreV1Api(api).list_namespaced_pod(NS, _preload_content=False)
    # Authenticated (not 401), and bound by RBAC: the account holds no Role yet.
    assert exc_info.value.status == 403
    assert status_of(exc_info)["message"] == (
        f'pods is forbidden: User "{USER}" cannot list resource "pods" in API group "" in the namespace "{NS}"'
    )


def test_a_token_expires_and_dies_with_its_service_account(kube_emulator, core):
    core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)
    kube_emulator.add(cluster_role("reader", ["namespaces"], ["get"]))
    kube_emulator.add(binding("worker-reads", "ClusterRole", "reader"))
    token = kube_emulator.issue_token(NS, "worker", 600)
    get = f"/api/v1/namespaces/{NS}"

    assert raw(kube_emulator, token, "GET", get)[0] == 200
    kube_emulator.clock = lambda: time.time() + 601
    assert raw(kube_emulator, token, "GET", get)[0] == 401
    kube_emulator.clock = time.time
    kube_emulator.remove("ServiceAccount", "worker", NS)
    core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)
    assert raw(kube_emulator, token, "GET", get)[0] == 401, "a new account of the same name is not the old one"


@pytest.mark.parametrize("seconds", [60, 2**33])
def test_a_token_lifetime_out_of_bounds_is_invalid(core, seconds):
    core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)

    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_service_account_token(
            "worker", NS, {"spec": {"expirationSeconds": seconds}}, _preload_content=False
        )

    assert exc_info.value.status == 422


def test_a_token_for_a_missing_account_is_not_found(core):
    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_service_account_token("ghost", NS, {"spec": {}}, _preload_content=False)

    assert exc_info.value.status == 404
    assert status_of(exc_info)["message"] == 'serviceaccounts "ghost" not found'


# --- RBAC ---


def cluster_role(name, resources, verbs, *, names=None, group=""):
    rule = {"apiGroups": [group], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return {"kind": "ClusterRole", "metadata": {"name": name}, "rules": [rule]}


def binding(name, kind, role, *, namespace=NS, account="worker"):
    return {
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": NS}],
    }


def raw(emulator, token, method, path, body=None, content_type="application/json"):
    response = urllib3.request(
        method,
        emulator.url + path,
        body=None if body is None else json.dumps(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        retries=False,
    )
    return response.status, response.json()


@pytest.fixture
def worker(kube_emulator, core):
    kube_emulator.add_namespace("team-b")
    core.create_namespaced_service_account(NS, {"metadata": {"name": "worker"}}, _preload_content=False)
    return kube_emulator.issue_token(NS, "worker")


def test_a_role_binding_grants_in_its_namespace_only(kube_emulator, worker):
    kube_emulator.add(cluster_role("cm-reader", ["configmaps"], ["get", "list"]))
    kube_emulator.add(binding("reads", "ClusterRole", "cm-reader"))

    assert raw(kube_emulator, worker, "GET", f"/api/v1/namespaces/{NS}/configmaps")[0] == 200
    assert raw(kube_emulator, worker, "GET", "/api/v1/namespaces/team-b/configmaps")[0] == 403
    assert raw(kube_emulator, worker, "GET", "/api/v1/configmaps")[0] == 403
    status, answer = raw(
        kube_emulator, worker, "POST", f"/api/v1/namespaces/{NS}/configmaps", {"metadata": {"name": "c"}}
    )
    assert status == 403
    assert f'User "{USER}" cannot create resource "configmaps"' in answer["message"]


def test_a_role_in_the_namespace_and_resource_names(kube_emulator, worker):
    rule = {"apiGroups": [""], "resources": ["resourcequotas"], "verbs": ["get", "delete"], "resourceNames": ["mine"]}
    kube_emulator.add({"kind": "Role", "metadata": {"name": "one-quota", "namespace": NS}, "rules": [rule]})
    kube_emulator.add(binding("one", "Role", "one-quota"))
    for name in ("mine", "theirs"):
        kube_emulator.add({"kind": "ResourceQuota", "metadata": {"name": name, "namespace": NS}, "spec": {}})
    quotas = f"/api/v1/namespaces/{NS}/resourcequotas"

    assert raw(kube_emulator, worker, "GET", f"{quotas}/mine")[0] == 200
    assert raw(kube_emulator, worker, "GET", f"{quotas}/theirs")[0] == 403
    assert raw(kube_emulator, worker, "GET", quotas)[0] == 403, "a named rule never allows a list"
    assert raw(kube_emulator, worker, "DELETE", f"{quotas}/theirs")[0] == 403
    assert raw(kube_emulator, worker, "DELETE", f"{quotas}/mine")[0] == 200


def test_a_subresource_is_its_own_resource(kube_emulator, worker):
    kube_emulator.add(cluster_role("sa", ["serviceaccounts"], ["get", "create"]))
    kube_emulator.add(binding("sa", "ClusterRole", "sa"))
    token_path = f"/api/v1/namespaces/{NS}/serviceaccounts/worker/token"

    status, answer = raw(kube_emulator, worker, "POST", token_path, {"spec": {}})

    assert status == 403
    assert 'cannot create resource "serviceaccounts/token"' in answer["message"]


def test_a_group_subject_and_a_cluster_role_binding(kube_emulator, worker):
    kube_emulator.add(cluster_role("ns-lister", ["namespaces"], ["list"]))
    kube_emulator.add({
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "all-accounts-list"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ns-lister"},
        "subjects": [{"kind": "Group", "name": f"system:serviceaccounts:{NS}"}],
    })  # fmt: skip

    assert raw(kube_emulator, worker, "GET", "/api/v1/namespaces")[0] == 200


def test_binding_a_role_needs_its_permissions_or_bind(kube_emulator, worker):
    kube_emulator.add(cluster_role("editor", ["configmaps"], ["get", "create"]))
    kube_emulator.add(cluster_role("binder", ["rolebindings"], ["create"], group="rbac.authorization.k8s.io"))
    kube_emulator.add(binding("may-bind", "ClusterRole", "binder"))
    rolebindings = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NS}/rolebindings"
    new = binding("edits", "ClusterRole", "editor")

    status, answer = raw(kube_emulator, worker, "POST", rolebindings, new)
    assert status == 403 and "attempting to grant RBAC permissions not currently held" in answer["message"]

    kube_emulator.add(
        cluster_role("bind-editor", ["clusterroles"], ["bind"], names=["editor"], group="rbac.authorization.k8s.io")
    )
    kube_emulator.add(binding("may-bind-editor", "ClusterRole", "bind-editor"))
    assert raw(kube_emulator, worker, "POST", rolebindings, new)[0] == 201


def test_an_added_token_is_a_user_under_rbac(kube_emulator, admin):
    kube_emulator.add_token("alice-token", "alice", ["devs"])

    status, answer = raw(kube_emulator, "alice-token", "GET", f"/api/v1/namespaces/{NS}/pods")

    assert status == 403 and 'User "alice"' in answer["message"]
    assert raw(kube_emulator, kube_emulator.token, "GET", f"/api/v1/namespaces/{NS}/pods")[0] == 200


# --- faults on the new paths ---


def test_faults_and_delays_apply_to_writes(kube_emulator, core):
    kube_emulator.fail(r"/serviceaccounts$", 500, times=1, method="POST")
    kube_emulator.fail(r"/token$", 403)
    kube_emulator.delay(r"/namespaces/team-a$", 0.3, method="DELETE")

    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_service_account(NS, {"metadata": {"name": "w"}}, _preload_content=False)
    assert exc_info.value.status == 500
    core.create_namespaced_service_account(NS, {"metadata": {"name": "w"}}, _preload_content=False)
    with pytest.raises(ApiException) as exc_info:
        core.create_namespaced_service_account_token("w", NS, {"spec": {}}, _preload_content=False)
    assert status_of(exc_info)["message"] == (
        'serviceaccounts "w" is forbidden: User "system:serviceaccount:kube-journeys:portal" cannot create '
        'resource "serviceaccounts/token" in API group "" in the namespace "team-a"'
    )
    core.read_namespace(NS, _preload_content=False)  # the delay is only for DELETE
    started = time.perf_counter()
    core.delete_namespace(NS, _preload_content=False)
    assert time.perf_counter() - started >= 0.3


# --- admission: ValidatingAdmissionPolicies the emulator holds ---


def admission_policy(name, expression, *, failure_policy="Fail", actions=("Deny",), namespace_selector=None):
    constraints = {
        "resourceRules": [
            {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "DELETE"], "resources": ["configmaps"]}
        ]
    }
    if namespace_selector is not None:
        constraints["namespaceSelector"] = namespace_selector
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": name},
            "spec": {
                "failurePolicy": failure_policy,
                "matchConstraints": constraints,
                "validations": [{"expression": expression}],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": name},
            "spec": {"policyName": name, "validationActions": list(actions)},
        },
    ]


def create_config_map(core, name, data=None):
    return core.create_namespaced_config_map(NS, {"metadata": {"name": name}, "data": data or {}})


def test_a_policy_denies_what_its_expression_refuses_with_the_apiservers_message(kube_emulator, core):
    kube_emulator.add_many(admission_policy("small", "size(object.data) <= 1"))

    create_config_map(core, "ok", {"a": "1"})
    with pytest.raises(ApiException) as refused:
        create_config_map(core, "big", {"a": "1", "b": "2"})

    assert refused.value.status == 422  # no reason given: Invalid, as the apiserver answers
    assert status_of(refused)["message"] == (
        "configmaps \"big\" is forbidden: ValidatingAdmissionPolicy 'small' with binding 'small' denied request: "
        "failed expression: size(object.data) <= 1"
    )
    assert kube_emulator.get("ConfigMap", "big", NS) is None


def test_a_delete_sees_the_old_object(kube_emulator, core):
    create_config_map(core, "kept", {"keep": "yes"})
    kube_emulator.add_many(admission_policy("keep", '!("keep" in oldObject.data)'))

    with pytest.raises(ApiException) as refused:
        core.delete_namespaced_config_map("kept", NS)
    assert refused.value.status == 422
    assert kube_emulator.get("ConfigMap", "kept", NS) is not None


@pytest.mark.parametrize(("failure_policy", "admitted"), [("Fail", False), ("Ignore", True)])
def test_an_expression_that_errors_follows_the_failure_policy(kube_emulator, core, failure_policy, admitted):
    kube_emulator.add_many(admission_policy("broken", "object.missing.field == 1", failure_policy=failure_policy))

    if admitted:
        create_config_map(core, "c")
    else:
        with pytest.raises(ApiException) as refused:
            create_config_map(core, "c")
        assert "expression failed" in status_of(refused)["message"]
    assert (kube_emulator.get("ConfigMap", "c", NS) is not None) == admitted


def test_only_deny_bindings_and_matching_namespaces_refuse(kube_emulator, core):
    kube_emulator.add_many(admission_policy("warn-only", "false", actions=("Warn", "Audit")))
    kube_emulator.add_many(
        admission_policy("elsewhere", "false", namespace_selector={
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["prod"]}],
        })
    )  # fmt: skip

    create_config_map(core, "fine")

    kube_emulator.add_namespace(NS, labels={"tier": "prod"})
    with pytest.raises(ApiException) as refused:
        create_config_map(core, "now-refused")
    assert "'elsewhere'" in status_of(refused)["message"]


def test_a_property_named_like_a_cel_keyword_is_escaped_as_in_kubernetes(kube_emulator, core):
    kube_emulator.add_many(admission_policy("plain", 'object.metadata.namespace == "team-a"'))
    with pytest.raises(ApiException) as refused:
        create_config_map(core, "plain")
    assert "select it as __namespace__" in status_of(refused)["message"]

    kube_emulator.remove("ValidatingAdmissionPolicyBinding", "plain", "")
    kube_emulator.add_many(admission_policy("escaped", 'object.metadata.__namespace__ == "team-a"'))
    create_config_map(core, "escaped")
