"""ClusterSource through the official client against an HTTP emulation of the Kubernetes API.

Every failure a learner can meet must come back as a SourceError with a specific message, and a
run must list each kind once.
"""

import socket

import pytest

from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.sources import ClusterSettings, ClusterSource, SourceError

pytest_plugins = ["tests.k8s_emulator"]

NAMESPACE = "team-a"


def cronjob(schedule="0 2 * * *"):
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": NAMESPACE},
        "spec": {
            "schedule": schedule,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 600,
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {"restartPolicy": "OnFailure", "containers": [{"name": "b", "image": "busybox:1.36"}]}
                    }
                }
            },
        },
    }


@pytest.fixture
def cluster(kube_emulator):
    kube_emulator.add_namespace(NAMESPACE)
    kube_emulator.add(cronjob())
    return kube_emulator


def source(kubeconfig, **overrides):
    values = {
        "kubeconfig": str(kubeconfig),
        "context": "sandbox",
        # Roomy: the emulator shares two cores with the rest of the suite, and a timeout here would
        # be the machine's, not the code's. The timeout tests set their own short ones.
        "connect_timeout": 5.0,
        "read_timeout": 5.0,
    } | overrides
    return ClusterSource(ClusterSettings(**values))


def read(kubeconfig, lab="nightly-backup", namespace=NAMESPACE, **overrides):
    return source(kubeconfig, **overrides).snapshot(kinds_for(LABS[lab]), namespace)


def test_reads_the_namespace_with_one_call_per_kind(cluster, kubeconfig):
    cluster.reset_requests()
    reader = source(kubeconfig)
    snapshot = reader.snapshot(kinds_for(LABS["nightly-backup"]), NAMESPACE)
    assert snapshot.get("CronJob", "backup")["apiVersion"] == "batch/v1"
    kinds = kinds_for(LABS["nightly-backup"])
    assert reader.api_calls == 1 + len(kinds) == cluster.request_count()
    assert cluster.request_count(r"/namespaces/team-a/cronjobs$") == 1
    assert evaluate(LABS["nightly-backup"], snapshot, source="api").passed


@pytest.mark.parametrize("lab", sorted(LABS))
def test_every_lab_lists_each_kind_once(cluster, kubeconfig, lab):
    cluster.reset_requests()
    read(kubeconfig, lab=lab)
    paths = [request.path for request in cluster.requests]
    assert len(paths) == len(set(paths)) == 1 + len(kinds_for(LABS[lab]))


def test_wrong_credentials_are_401(cluster, kube_emulator, tmp_path):
    bad = kube_emulator.write_kubeconfig(tmp_path / "bad", token="not-the-token")
    with pytest.raises(SourceError, match="did not accept the portal's credentials") as caught:
        read(bad)
    assert caught.value.code == "unauthorized"


def test_forbidden_names_the_verb_and_resource(cluster, kubeconfig):
    cluster.fail(r"/cronjobs", 403)
    with pytest.raises(SourceError) as caught:
        read(kubeconfig)
    assert caught.value.code == "forbidden"
    assert 'not allowed to list cronjobs in the API group "batch" in the namespace "team-a"' in caught.value.message


def test_forbidden_cluster_roles_are_reported_by_the_check_not_the_run(cluster, kubeconfig):
    cluster.fail(r"/clusterroles", 403)
    snapshot = read(kubeconfig, lab="least-privilege")
    assert "ClusterRole" in snapshot.unreadable


def test_missing_namespace(cluster, kubeconfig):
    with pytest.raises(SourceError, match='namespace "nowhere" does not exist') as caught:
        read(kubeconfig, namespace="nowhere")
    assert caught.value.code == "namespace-not-found"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(cluster, kubeconfig, status):
    cluster.fail(r"/cronjobs", status)
    with pytest.raises(SourceError, match=f"answered with an error \\({status}") as caught:
        read(kubeconfig)
    assert caught.value.code == "server-error"


def test_slow_api_times_out_once_without_retries(cluster, kubeconfig):
    cluster.delay(r"/cronjobs", 2.0)
    cluster.reset_requests()
    with pytest.raises(SourceError, match="did not answer in time") as caught:
        read(kubeconfig, read_timeout=0.3)
    assert caught.value.code == "timeout"
    assert cluster.request_count(r"/cronjobs") == 1


def test_unreachable_api(kube_emulator, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = kube_emulator.write_kubeconfig(tmp_path / "closed", server=f"http://127.0.0.1:{port}")
    with pytest.raises(SourceError, match="cannot reach the Kubernetes API") as caught:
        read(path)
    assert caught.value.code == "unreachable"


def test_tls_failure(cluster, kube_emulator, tmp_path):
    path = kube_emulator.write_kubeconfig(tmp_path / "tls", server=kube_emulator.url.replace("http://", "https://"))
    with pytest.raises(SourceError, match="secure \\(TLS\\) connection") as caught:
        read(path)
    assert caught.value.code == "tls"


def test_missing_kubeconfig_is_a_configuration_error(tmp_path):
    with pytest.raises(SourceError) as caught:
        read(tmp_path / "nope")
    assert caught.value.code == "not-configured"


def test_unknown_context_is_a_configuration_error(cluster, kubeconfig):
    with pytest.raises(SourceError) as caught:
        read(kubeconfig, context="no-such-context")
    assert caught.value.code == "not-configured"
