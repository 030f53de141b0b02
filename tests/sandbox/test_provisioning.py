"""Provisioning through the official client, with the provisioner's own narrow RBAC, against the emulator.

Each failure the cluster can answer with must come back as a ProvisioningError with a learner's message
and an operator's detail, and a failed create must leave nothing half-made (or be completed by a retry).
"""

import base64
import datetime as dt
import socket
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from journeys.sandbox.assignments import _dns_label
from journeys.sandbox.provisioning import (
    ABSENT,
    ACTIVE,
    GUARD_NAME,
    MANAGED_BY_LABEL,
    ROLE_BINDING,
    TERMINATING,
    Provisioner,
    ProvisionerSettings,
    ProvisioningError,
    namespace_problem,
)
from tests.sandbox.provisioning_support import call, load_rbac, path_for, provisioner_settings

pytest_plugins = ["tests.k8s_emulator"]

NS = "learn-ada"


@pytest.fixture
def cluster(kube_emulator):
    load_rbac(kube_emulator)
    return kube_emulator


@pytest.fixture
def provisioner(cluster, tmp_path):
    return Provisioner(provisioner_settings(cluster, tmp_path))


def error_of(call_):
    with pytest.raises(ProvisioningError) as exc_info:
        call_()
    return exc_info.value


def test_create_builds_the_whole_sandbox(cluster, provisioner):
    assert provisioner.create(NS) == ACTIVE

    namespace = cluster.get("Namespace", NS, "")
    labels = namespace["metadata"]["labels"]
    assert labels[MANAGED_BY_LABEL] == "kube-journeys"
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"
    assert cluster.get("ResourceQuota", GUARD_NAME, NS)["spec"] == {"hard": {"pods": "40"}}
    assert cluster.get("LimitRange", GUARD_NAME, NS)["spec"] == {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}
    assert cluster.get("ServiceAccount", "learner", NS)["automountServiceAccountToken"] is False
    binding = cluster.get("RoleBinding", ROLE_BINDING, NS)
    assert binding["roleRef"]["name"] == "kube-journeys-learner"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "learner", "namespace": NS}]


def test_create_again_is_idempotent_and_repairs_a_loosened_guard(cluster, provisioner):
    provisioner.create(NS)
    cluster.add({"kind": "ResourceQuota", "metadata": {"name": GUARD_NAME, "namespace": NS}, "spec": {"hard": {}}})
    cluster.remove("ServiceAccount", "learner", NS)

    assert provisioner.create(NS) == ACTIVE

    assert cluster.get("ResourceQuota", GUARD_NAME, NS)["spec"] == {"hard": {"pods": "40"}}
    assert cluster.get("ServiceAccount", "learner", NS) is not None
    assert len(cluster.objects("Namespace")) == 2  # kube-journeys and the sandbox


def test_a_rolebinding_pointing_elsewhere_is_replaced(cluster, provisioner):
    provisioner.create(NS)
    binding = cluster.get("RoleBinding", ROLE_BINDING, NS)
    binding["subjects"] = [{"kind": "User", "name": "mallory"}]
    cluster.add(binding)

    provisioner.create(NS)

    assert cluster.get("RoleBinding", ROLE_BINDING, NS)["subjects"][0]["name"] == "learner"


def test_credentials_give_a_working_kubeconfig_for_the_namespace(cluster, provisioner, tmp_path):
    provisioner.create(NS)

    credentials = provisioner.credentials(NS)

    config = yaml.safe_load(credentials.kubeconfig)
    [context] = config["contexts"]
    assert context["context"]["namespace"] == NS
    assert config["current-context"] == context["name"]
    assert config["clusters"][0]["cluster"]["server"] == cluster.url
    assert config["users"][0]["user"]["token"] == credentials.token
    expires = dt.datetime.fromisoformat(credentials.expires.replace("Z", "+00:00"))
    assert abs((expires - dt.datetime.now(dt.UTC)).total_seconds() - 8 * 3600) < 60
    assert call(cluster, credentials.token, "GET", path_for("Pod", NS))[0] == 200
    # Each request is a new token; none is kept.
    assert provisioner.credentials(NS).token != credentials.token


def test_the_kubeconfig_names_the_learner_server_and_the_ca(cluster, tmp_path):
    # The client loads a CA only for an https server, which the emulator is not: the loaded
    # configuration is stood in for.
    ca = tmp_path / "ca.crt"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    api = SimpleNamespace(configuration=SimpleNamespace(host="https://10.0.0.1:443", ssl_ca_cert=str(ca)))
    learner_server = "https://k8s.example.org:6443"
    provisioner = Provisioner(provisioner_settings(cluster, tmp_path, learner_server=learner_server))

    config = yaml.safe_load(provisioner._kubeconfig(api, NS, "t0ken"))

    cluster_entry = config["clusters"][0]["cluster"]
    assert cluster_entry["server"] == learner_server
    assert base64.b64decode(cluster_entry["certificate-authority-data"]) == ca.read_bytes()
    assert config["users"][0]["user"] == {"token": "t0ken"}


def test_a_sandbox_whose_account_was_deleted_is_repaired_by_create(cluster, provisioner):
    provisioner.create(NS)
    cluster.remove("ServiceAccount", "learner", NS)

    error = error_of(lambda: provisioner.credentials(NS))

    assert error.code == "incomplete"
    assert "Create your sandbox again" in error.message
    provisioner.create(NS)
    assert provisioner.credentials(NS).token


def test_no_token_without_a_sandbox(provisioner):
    error = error_of(lambda: provisioner.credentials(NS))

    assert error.code == "no-sandbox"
    assert "Create it first" in error.message


def test_delete_then_the_namespace_terminates(cluster, provisioner):
    cluster.namespace_termination_seconds = 30
    provisioner.create(NS)
    token = provisioner.credentials(NS).token

    assert provisioner.delete(NS) == TERMINATING
    assert provisioner.namespace_state(NS) == TERMINATING
    assert error_of(lambda: provisioner.create(NS)).code == "terminating"
    cluster.finish_termination()

    assert provisioner.namespace_state(NS) == ABSENT
    assert provisioner.delete(NS) == ABSENT
    assert call(cluster, token, "GET", path_for("Pod", NS))[0] == 401, "the token died with its ServiceAccount"


def test_reset_recreates_when_termination_is_quick(cluster, provisioner):
    provisioner.create(NS)
    old_uid = cluster.get("Namespace", NS, "")["metadata"]["uid"]
    cluster.add({"kind": "ConfigMap", "metadata": {"name": "leftover", "namespace": NS}})

    assert provisioner.reset(NS) == ACTIVE

    assert cluster.get("Namespace", NS, "")["metadata"]["uid"] != old_uid
    assert cluster.get("ConfigMap", "leftover", NS) is None
    assert cluster.get("ResourceQuota", GUARD_NAME, NS) is not None


def test_reset_reports_a_slow_termination_instead_of_waiting(cluster, provisioner):
    cluster.namespace_termination_seconds = 30
    provisioner.create(NS)

    assert provisioner.reset(NS) == TERMINATING
    assert provisioner.reset(NS) == TERMINATING
    cluster.finish_termination()
    assert provisioner.reset(NS) == ACTIVE


def test_a_namespace_the_portal_did_not_make_is_refused(cluster, provisioner):
    cluster.add_namespace(NS)

    for action in (provisioner.create, provisioner.delete, provisioner.reset, provisioner.credentials):
        error = error_of(lambda action=action: action(NS))
        assert error.code == "not-ours"
    assert cluster.get("Namespace", NS, "") is not None


@pytest.mark.parametrize("name", ["", "Learn-Ada", "learn_ada", "-ada", "a" * 64, "ada.learn", "learn-ada\n"])
def test_a_bad_name_is_refused_before_any_call(cluster, provisioner, name):
    cluster.reset_requests()

    error = error_of(lambda: provisioner.create(name))

    assert error.code == "bad-name"
    assert cluster.requests == []


# --- failures ---


@pytest.mark.parametrize(
    ("path", "status", "message", "code", "learner_words"),
    [
        (r"/rolebindings$", 403, None, "forbidden", "not allowed to create rolebindings"),
        (r"/limitranges$", 500, None, "server-error", "error (500)"),
        (r"/resourcequotas$", 422, None, "invalid", "refused your sandbox's settings"),
        (r"/serviceaccounts$", 403, 'serviceaccounts "learner" is forbidden: exceeded quota: q', "quota", "quota"),
        (r"/api/v1/namespaces$", 409, None, "conflict", "same moment"),
    ],
)
def test_a_failed_step_leaves_nothing_behind(cluster, provisioner, path, status, message, code, learner_words):
    cluster.fail(path, status, message=message, times=1)

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == code
    assert learner_words in error.message
    assert str(status) in error.detail
    assert provisioner.namespace_state(NS) == ABSENT, "the half-made namespace was removed"
    assert provisioner.create(NS) == ACTIVE, "and a retry builds it whole"


def test_a_failed_cleanup_is_completed_by_a_retry(cluster, provisioner, caplog):
    cluster.fail(r"/rolebindings$", 500, times=1)
    cluster.fail(r"/namespaces/learn-ada$", 503, method="DELETE")  # the cleanup's delete fails

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "server-error"
    assert "could not remove the half-made namespace" in caplog.text
    assert provisioner.namespace_state(NS) == ACTIVE
    cluster.clear_faults()
    assert provisioner.create(NS) == ACTIVE
    assert cluster.get("RoleBinding", ROLE_BINDING, NS) is not None


def test_a_namespace_still_being_deleted_answers_try_again(cluster, provisioner):
    cluster.fail(
        r"/api/v1/namespaces$",
        409,
        message=f'object is being deleted: namespaces "{NS}" already exists',
        reason="AlreadyExists",
        times=1,
    )

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "terminating"
    assert "Try again in a few seconds" in error.message


def test_content_refused_in_a_terminating_namespace_answers_try_again(cluster, provisioner):
    provisioner.create(NS)
    cluster.namespace_termination_seconds = 30
    provisioner.delete(NS)
    cluster.add({"kind": "Namespace", "metadata": {"name": NS, "labels": {MANAGED_BY_LABEL: "kube-journeys"}}})

    error = error_of(lambda: provisioner._ensure_contents(provisioner._client(), NS))

    assert error.code == "terminating"


def test_a_slow_api_times_out_quickly(cluster, tmp_path):
    provisioner = Provisioner(provisioner_settings(cluster, tmp_path, read_timeout=0.3))
    cluster.delay(r"/namespaces/learn-ada$", 2)

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "timeout"
    assert "did not answer in time" in error.message
    assert cluster.request_count(r"/namespaces/learn-ada$") == 1, "no retries"


def test_an_unreachable_api(cluster, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = cluster.write_kubeconfig(tmp_path / "closed", server=f"http://127.0.0.1:{port}")
    provisioner = Provisioner(provisioner_settings(cluster, tmp_path, kubeconfig=str(path)))

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "unreachable"
    assert "cannot reach the cluster" in error.message


def test_a_tls_failure(cluster, tmp_path):
    path = cluster.write_kubeconfig(tmp_path / "tls", server=cluster.url.replace("http://", "https://"))
    provisioner = Provisioner(provisioner_settings(cluster, tmp_path, kubeconfig=str(path)))

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "tls"


def test_rejected_credentials(cluster, tmp_path):
    path = cluster.write_kubeconfig(tmp_path / "bad", token="expired")
    provisioner = Provisioner(provisioner_settings(cluster, tmp_path, kubeconfig=str(path)))

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "unauthorized"
    assert "401" in error.detail


def test_a_missing_kubeconfig(tmp_path):
    provisioner = Provisioner(ProvisionerSettings(kubeconfig=str(tmp_path / "missing")))

    assert error_of(lambda: provisioner.create(NS)).code == "not-configured"


def test_an_unknown_pod_security_level_is_a_configuration_error(tmp_path):
    error = error_of(lambda: Provisioner(ProvisionerSettings(kubeconfig="x", pod_security="strict")))

    assert error.code == "not-configured"
    assert "SANDBOX_POD_SECURITY" in error.detail


# --- names ---

DNS_LABEL_TEXT = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


@given(DNS_LABEL_TEXT)
def test_every_dns_label_is_accepted(name):
    assert namespace_problem(name) == ""


@given(st.text(max_size=80))
def test_a_name_is_accepted_only_if_it_is_a_dns_label(name):
    valid = (
        0 < len(name) <= 63
        and all(c in "abcdefghijklmnopqrstuvwxyz0123456789-" for c in name)
        and name[0] != "-"
        and name[-1] != "-"
    )
    assert (namespace_problem(name) == "") == valid


@given(st.text(max_size=100))
def test_the_template_always_yields_a_valid_name_or_none(username):
    name = _dns_label(f"learn-{username}")
    assert name == "" or namespace_problem(name) == ""


def test_a_forbidden_namespace_create_names_the_verb_and_resource(cluster, provisioner):
    cluster.fail(r"/api/v1/namespaces$", 403, method="POST")

    error = error_of(lambda: provisioner.create(NS))

    assert error.code == "forbidden"
    assert error.message.startswith("The portal is not allowed to create namespaces, so your sandbox was not changed.")
    assert 'cannot create resource "namespaces"' in error.detail
