"""The Kubernetes API emulator, driven only through the official client and a kubeconfig file."""

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import (
    ApiException,
    ForbiddenException,
    NotFoundException,
    ServiceException,
    UnauthorizedException,
)

# Loaded as a plugin rather than imported by name: an imported fixture that is then used as an
# argument counts as a redefinition (F811) for the linter, and importing the module before
# pytest registers it would cost it assertion rewriting (a warning on every run).
pytest_plugins = ["tests.k8s_emulator"]

USER = "system:serviceaccount:kube-journeys:portal"


def pod(name, namespace="team-a", labels=None, phase="Running"):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
        "status": {"phase": phase},
    }


def api_client(kubeconfig_path, *, retries=False):
    # Retries must be decided before ApiClient exists: the urllib3 pool copies them at construction.
    cfg = client.Configuration()
    cfg.retries = retries
    config.load_kube_config(
        config_file=str(kubeconfig_path), context="sandbox", client_configuration=cfg, persist_config=False
    )
    return client.ApiClient(cfg)


def status_of(exc_info):
    return json.loads(exc_info.value.body)


@pytest.fixture
def cluster(kube_emulator):
    kube_emulator.add_namespace("team-a")
    kube_emulator.add_namespace("team-b")
    kube_emulator.add_many(
        [
            pod("web-1", labels={"app": "web", "tier": "frontend"}),
            pod("web-2", labels={"app": "web"}),
            pod("api-1", labels={"app": "api", "tier": "backend"}, phase="Pending"),
            pod("other", namespace="team-b", labels={"app": "web"}),
        ]
    )
    return kube_emulator


@pytest.fixture
def api(kubeconfig):
    with api_client(kubeconfig) as api:
        yield api


@pytest.fixture
def core(api):
    return client.CoreV1Api(api)


def test_new_client_from_config_lists_raw_json(cluster, kubeconfig):
    with config.new_client_from_config(config_file=str(kubeconfig), context="sandbox") as api:
        resp = client.CoreV1Api(api).list_namespaced_pod("team-a", _preload_content=False)
        data = json.loads(resp.data)

    assert resp.status == 200
    assert data["kind"] == "PodList"
    assert data["apiVersion"] == "v1"
    assert data["metadata"]["resourceVersion"]
    assert [item["metadata"]["name"] for item in data["items"]] == ["api-1", "web-1", "web-2"]
    first = data["items"][0]
    assert "kind" not in first
    assert "apiVersion" not in first
    assert first["metadata"]["uid"]
    assert first["metadata"]["resourceVersion"].isdigit()
    assert first["metadata"]["creationTimestamp"].endswith("Z")


def test_typed_list_yields_pod_models(cluster, core):
    pods = core.list_namespaced_pod("team-a")

    assert isinstance(pods, client.V1PodList)
    assert all(isinstance(item, client.V1Pod) for item in pods.items)
    web = next(item for item in pods.items if item.metadata.name == "web-1")
    assert web.metadata.namespace == "team-a"
    assert web.metadata.labels == {"app": "web", "tier": "frontend"}
    assert web.metadata.creation_timestamp.tzinfo is not None
    assert web.spec.containers[0].image == "nginx:1.27"
    assert web.status.phase == "Running"


def test_list_across_namespaces(cluster, core):
    pods = core.list_pod_for_all_namespaces()

    assert {(p.metadata.namespace, p.metadata.name) for p in pods.items} >= {("team-a", "web-1"), ("team-b", "other")}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", ["web-1", "web-2"]),
        ("app==web,tier=frontend", ["web-1"]),
        ("app!=web", ["api-1"]),
        ("tier", ["api-1", "web-1"]),
        ("!tier", ["web-2"]),
        ("tier!=backend", ["web-1", "web-2"]),
        ("app in (api, web),tier notin (frontend)", ["api-1", "web-2"]),
        ("app=nothing", []),
    ],
)
def test_label_selector(cluster, core, selector, expected):
    pods = core.list_namespaced_pod("team-a", label_selector=selector)

    assert [p.metadata.name for p in pods.items] == expected
    assert cluster.requests[-1].params["labelSelector"] == selector


def test_field_selector(cluster, core):
    pods = core.list_namespaced_pod("team-a", field_selector="status.phase=Pending")

    assert [p.metadata.name for p in pods.items] == ["api-1"]


def test_malformed_selector_is_a_bad_request(cluster, core):
    with pytest.raises(ApiException) as exc_info:
        core.list_namespaced_pod("team-a", label_selector="app in web")

    assert exc_info.value.status == 400
    assert status_of(exc_info)["reason"] == "BadRequest"


def test_read_namespace_found_and_missing(cluster, core):
    namespace = core.read_namespace("team-a")
    assert isinstance(namespace, client.V1Namespace)
    assert namespace.status.phase == "Active"
    assert namespace.metadata.labels["kubernetes.io/metadata.name"] == "team-a"

    with pytest.raises(ApiException) as exc_info:
        core.read_namespace("missing")

    assert exc_info.value.status == 404
    assert isinstance(exc_info.value, NotFoundException)
    assert status_of(exc_info) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'namespaces "missing" not found',
        "reason": "NotFound",
        "details": {"name": "missing", "kind": "namespaces"},
        "code": 404,
    }


def test_other_groups_and_cluster_scoped_objects(kube_emulator, api):
    kube_emulator.add(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "team-a"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
                },
            },
        }
    )
    kube_emulator.add(
        {
            "kind": "ClusterRole",
            "metadata": {"name": "view"},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
        }
    )
    apps, rbac = client.AppsV1Api(api), client.RbacAuthorizationV1Api(api)

    assert apps.read_namespaced_deployment("web", "team-a").spec.template.spec.containers[0].name == "app"
    assert [d.metadata.name for d in apps.list_namespaced_deployment("team-a").items] == ["web"]
    assert rbac.read_cluster_role("view").rules[0].verbs == ["get", "list"]
    assert [r.metadata.name for r in rbac.list_cluster_role().items] == ["view"]
    assert client.BatchV1Api(api).list_namespaced_cron_job("team-a").items == []
    with pytest.raises(ApiException) as exc_info:
        apps.read_namespaced_deployment("api", "team-a")
    assert status_of(exc_info)["message"] == 'deployments.apps "api" not found'
    assert status_of(exc_info)["details"] == {"name": "api", "group": "apps", "kind": "deployments"}


def test_unknown_resource_is_not_found(kube_emulator, api):
    with pytest.raises(ApiException) as exc_info:
        client.CustomObjectsApi(api).list_namespaced_custom_object("example.com", "v1", "team-a", "widgets")

    assert exc_info.value.status == 404
    assert status_of(exc_info)["message"] == "the server could not find the requested resource"


def test_a_write_to_a_path_that_takes_none_is_not_allowed(cluster):
    # POST names no object (the body does); a PUT needs one. Writes themselves are in test_k8s_emulator_writes.
    response = urllib3.request(
        "POST",
        f"{cluster.url}/api/v1/namespaces/team-a/pods/web-1",
        json={},
        headers={"Authorization": f"Bearer {cluster.token}"},
        retries=False,
    )

    assert response.status == 405
    assert response.json()["reason"] == "MethodNotAllowed"
    assert cluster.requests[-1].method == "POST"


@pytest.mark.parametrize("token", ["wrong-token", ""])
def test_bad_or_missing_token_is_unauthorized(kube_emulator, tmp_path, token):
    path = kube_emulator.write_kubeconfig(tmp_path / "bad", token=token)

    with api_client(path) as api, pytest.raises(ApiException) as exc_info:
        client.CoreV1Api(api).list_namespaced_pod("team-a")

    assert isinstance(exc_info.value, UnauthorizedException)
    assert exc_info.value.status == 401
    assert status_of(exc_info) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_injected_forbidden_on_a_list(cluster, core):
    cluster.fail(r"/namespaces/team-a/pods$", 403)

    with pytest.raises(ApiException) as exc_info:
        core.list_namespaced_pod("team-a", _preload_content=False)

    assert isinstance(exc_info.value, ForbiddenException)
    assert status_of(exc_info) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            f'pods is forbidden: User "{USER}" cannot list resource "pods" in API group "" in the namespace "team-a"'
        ),
        "reason": "Forbidden",
        "details": {"kind": "pods"},
        "code": 403,
    }
    assert core.list_namespaced_pod("team-b").items, "other paths are unaffected"


@pytest.mark.parametrize(
    ("call", "message", "details"),
    [
        (
            lambda api: client.AppsV1Api(api).read_namespaced_deployment("web", "team-a"),
            f'deployments.apps "web" is forbidden: User "{USER}" cannot get resource "deployments" '
            'in API group "apps" in the namespace "team-a"',
            {"name": "web", "group": "apps", "kind": "deployments"},
        ),
        (
            lambda api: client.RbacAuthorizationV1Api(api).list_cluster_role(),
            f'clusterroles.rbac.authorization.k8s.io is forbidden: User "{USER}" cannot list resource '
            '"clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope',
            {"group": "rbac.authorization.k8s.io", "kind": "clusterroles"},
        ),
        (
            lambda api: client.CoreV1Api(api).read_namespace("team-a"),
            f'namespaces "team-a" is forbidden: User "{USER}" cannot get resource "namespaces" '
            'in API group "" in the namespace "team-a"',
            {"name": "team-a", "kind": "namespaces"},
        ),
    ],
)
def test_forbidden_messages_follow_the_path(kube_emulator, api, call, message, details):
    kube_emulator.fail(".", 403)

    with pytest.raises(ForbiddenException) as exc_info:
        call(api)

    assert status_of(exc_info)["message"] == message
    assert status_of(exc_info)["details"] == details


def test_injected_server_error_for_a_limited_number_of_requests(cluster, core):
    cluster.fail(r"/pods$", 500, times=1)
    cluster.fail(r"/pods$", 503, message="etcd is unhappy", reason="ServiceUnavailable", times=1)

    with pytest.raises(ApiException) as first:
        core.list_namespaced_pod("team-a")
    with pytest.raises(ApiException) as second:
        core.list_namespaced_pod("team-a")
    third = core.list_namespaced_pod("team-a")

    assert isinstance(first.value, ServiceException)
    assert first.value.status == 500
    assert status_of(first)["reason"] == "InternalError"
    assert status_of(first)["message"].startswith("Internal error occurred")
    assert second.value.status == 503
    assert status_of(second)["message"] == "etcd is unhappy"
    assert len(third.items) == 3


def test_clear_faults(cluster, core):
    cluster.fail(".", 500)
    cluster.clear_faults()

    assert core.read_namespace("team-a").metadata.name == "team-a"


def test_delay_beyond_read_timeout_raises_without_retries(cluster, core):
    cluster.delay(r"/pods$", 1.0)
    started = time.monotonic()

    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        core.list_namespaced_pod("team-a", _request_timeout=(1, 0.3))

    assert time.monotonic() - started < 0.9
    assert cluster.request_count(r"/pods$") == 1


def test_default_client_retries_read_timeouts_three_times(cluster, kubeconfig):
    cluster.delay(r"/pods$", 0.3)

    with (
        config.new_client_from_config(config_file=str(kubeconfig)) as api,
        pytest.raises(urllib3.exceptions.MaxRetryError) as exc_info,
    ):
        client.CoreV1Api(api).list_namespaced_pod("team-a", _request_timeout=(1, 0.02))

    assert isinstance(exc_info.value.reason, urllib3.exceptions.ReadTimeoutError)
    # The last try may still be on its way into the server when the client gives up on it.
    deadline = time.monotonic() + 2
    while cluster.request_count(r"/pods$") < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert cluster.request_count(r"/pods$") == 4


def test_short_delay_is_only_slow(cluster, core):
    cluster.delay(r"/namespaces/team-a$", 0.1, times=1)
    started = time.monotonic()

    core.read_namespace("team-a")
    core.read_namespace("team-a")

    assert 0.1 <= time.monotonic() - started < 2.0  # slow once, not timed out (generous for a busy machine)


def test_request_log_and_counts(cluster, core):
    cluster.reset_requests()

    core.list_namespaced_pod("team-a", label_selector="app=web")
    core.list_namespaced_pod("team-b")
    core.read_namespace("team-a")

    assert cluster.request_count() == 3
    assert cluster.request_count(r"/pods$") == 2
    assert cluster.request_count(r"^/api/v1/namespaces/team-a$") == 1
    method, path, query = cluster.requests[0]
    assert (method, path) == ("GET", "/api/v1/namespaces/team-a/pods")
    assert "labelSelector=app%3Dweb" in query


def test_concurrent_requests_share_one_client(cluster, core):
    with ThreadPoolExecutor(max_workers=8) as pool:
        sizes = list(pool.map(lambda _: len(core.list_namespaced_pod("team-a").items), range(40)))

    assert sizes == [3] * 40
    assert cluster.request_count(r"/pods$") == 40
    assert cluster.errors == []


def test_https_server_url_fails_the_tls_handshake(kube_emulator, tmp_path):
    path = kube_emulator.write_kubeconfig(tmp_path / "tls", server=kube_emulator.url.replace("http://", "https://"))

    with api_client(path) as api, pytest.raises(ApiException) as exc_info:
        client.CoreV1Api(api).list_namespaced_pod("team-a")

    # The client folds urllib3's SSLError into an ApiException with no HTTP status.
    assert exc_info.value.status == 0
    assert exc_info.value.reason.startswith("SSLError")


def test_https_with_default_retries_surfaces_max_retry_error(kube_emulator, tmp_path):
    path = kube_emulator.write_kubeconfig(tmp_path / "tls", server=kube_emulator.url.replace("http://", "https://"))

    with (
        config.new_client_from_config(config_file=str(path)) as api,
        pytest.raises(urllib3.exceptions.MaxRetryError) as exc_info,
    ):
        client.CoreV1Api(api).list_namespaced_pod("team-a")

    assert isinstance(exc_info.value.reason, urllib3.exceptions.SSLError)


def test_nothing_listening_refuses_the_connection(kube_emulator, tmp_path):
    # A bound but unlistening socket keeps the port ours, so nobody else can answer on it.
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        path = kube_emulator.write_kubeconfig(tmp_path / "refused", server=f"http://127.0.0.1:{port}")

        with api_client(path) as api, pytest.raises(urllib3.exceptions.NewConnectionError) as exc_info:
            client.CoreV1Api(api).list_namespaced_pod("team-a")

    assert isinstance(exc_info.value.__cause__, ConnectionRefusedError)


def test_stopped_emulator_drops_kept_alive_connections(kube_emulator, kubeconfig):
    with api_client(kubeconfig) as api:
        core = client.CoreV1Api(api)
        assert core.list_namespaced_pod("team-a").items == []
        kube_emulator.stop()

        with pytest.raises(urllib3.exceptions.HTTPError):
            core.list_namespaced_pod("team-a")


def test_add_fills_in_server_side_fields(kube_emulator):
    stored = kube_emulator.add({"kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}})
    cluster_scoped = kube_emulator.add({"kind": "Node", "metadata": {"name": "n1", "namespace": "ignored"}})

    assert stored["apiVersion"] == "v1"
    assert stored["metadata"]["namespace"] == "default"
    assert "namespace" not in cluster_scoped["metadata"]
    assert int(cluster_scoped["metadata"]["resourceVersion"]) > int(stored["metadata"]["resourceVersion"])
    with pytest.raises(ValueError, match="unsupported kind"):
        kube_emulator.add({"kind": "Widget", "metadata": {"name": "w"}})
    with pytest.raises(ValueError, match="served as"):
        kube_emulator.add({"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": {"name": "d"}})


def test_kubeconfig_namespace_and_context(kube_emulator, tmp_path):
    path = kube_emulator.write_kubeconfig(tmp_path / "kc", context="lab", namespace="team-a")

    contexts, current = config.list_kube_config_contexts(config_file=str(path))

    assert current["name"] == "lab"
    assert current["context"]["namespace"] == "team-a"
    assert [c["name"] for c in contexts] == ["lab"]
