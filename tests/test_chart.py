"""The Helm chart: every rendering draws no advice from the portal's own production reviewer, its
sandbox ClusterRole is the same as the standalone manifest, and its secret key is generated once and
then kept (Helm's lookup, served by the Kubernetes API emulation)."""

import base64
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from journeys.sandbox.checks.advisories import advisories_for
from journeys.sandbox.sources import FileSource
from tests.k8s_emulator import KubeEmulator

CHART = Path(settings.BASE_DIR) / "deploy" / "chart" / "kube-journeys"
VALUE_SETS = sorted((CHART / "ci-values").glob("*.yaml"))
NAMESPACE = "kube-journeys"


def render(helm, values):
    result = subprocess.run(
        [helm, "template", "journeys", str(CHART), "--namespace", NAMESPACE, "-f", str(values)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_there_are_value_sets_to_render():
    assert len(VALUE_SETS) >= 3


@pytest.mark.parametrize("values", VALUE_SETS, ids=lambda path: path.stem)
def test_rendered_chart_draws_no_advisories(helm, values):
    snapshot = FileSource(text=render(helm, values)).snapshot((), namespace=NAMESPACE)
    workloads = [kind for kind in ("Deployment", "StatefulSet", "CronJob", "Job") if snapshot.of_kind(kind)]
    assert "Deployment" in workloads
    advice = advisories_for(snapshot, "all")
    assert advice == [], [item.message for item in advice]


def test_chart_cluster_role_matches_the_standalone_manifest(helm):
    rendered = [doc for doc in yaml.safe_load_all(render(helm, VALUE_SETS[0])) if doc]
    [chart_role] = [doc for doc in rendered if doc["kind"] == "ClusterRole"]
    manifest = Path(settings.BASE_DIR) / "deploy" / "rbac" / "sandbox-reader.yaml"
    [manifest_role] = [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc and doc["kind"] == "ClusterRole"]

    def grants(role):
        return {
            (group, resource, verb)
            for rule in role["rules"]
            for group in rule["apiGroups"]
            for resource in rule["resources"]
            for verb in rule["verbs"]
        }

    assert grants(chart_role) == grants(manifest_role)


# --- The secret key -------------------------------------------------------------------------------

RELEASE = "journeys"
WEB_SECRET = "journeys-kube-journeys"  # the chart's full name for this release


class HelmLookupApi(KubeEmulator):
    """The test emulation plus the core v1 resource list Helm's ``lookup`` of a Secret asks for first."""

    def store_secret(self, namespace, name, **data):
        self.add(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace},
                "type": "Opaque",
                "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
            }
        )

    def _handle(self, handler):
        # Go clients (helm, kubectl) send no bearer token over plain HTTP; the emulation wants one.
        if "Authorization" not in handler.headers:
            handler.headers["Authorization"] = f"Bearer {self.token}"
        super()._handle(handler)

    def _serve(self, identity, method, path, params, data, content_type):
        if path == "/api/v1" and method == "GET":
            secrets = {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret"}
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": [{**secrets, "verbs": ["get"]}]}
        return super()._serve(identity, method, path, params, data, content_type)


@pytest.fixture
def helm_api(tmp_path):
    with pytest.MonkeyPatch.context() as monkeypatch, HelmLookupApi() as api:
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
        api.kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
        yield api


def helm_template(helm, tmp_path, *args, kubeconfig=None):
    """Render with the chart's defaults; with a kubeconfig, as `--dry-run=server` (lookup reads the API)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "HELM_CACHE_HOME": str(tmp_path / "helm-cache"),
        "HELM_CONFIG_HOME": str(tmp_path / "helm-config"),
        "HELM_DATA_HOME": str(tmp_path / "helm-data"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    command = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args]
    if kubeconfig is not None:
        env["KUBECONFIG"] = str(kubeconfig)
        command.append("--dry-run=server")
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def secret_data(documents, name):
    [secret] = [doc for doc in documents if doc["kind"] == "Secret" and doc["metadata"]["name"] == name]
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_renders_without_secret_key_and_generates_one(helm, tmp_path):
    first = secret_data(helm_template(helm, tmp_path), WEB_SECRET)["SECRET_KEY"]
    second = secret_data(helm_template(helm, tmp_path), WEB_SECRET)["SECRET_KEY"]
    assert len(first) >= 50 and len(set(first)) >= 5  # what Django's check --deploy asks of a key
    assert first != second  # generated, not a constant baked into the chart


def test_explicit_secret_key_is_used(helm, tmp_path):
    documents = helm_template(helm, tmp_path, "--set", "secretKey=an-operator-chosen-key-0123456789")
    assert secret_data(documents, WEB_SECRET)["SECRET_KEY"] == "an-operator-chosen-key-0123456789"


def test_existing_secret_is_referenced_and_no_secret_rendered(helm, tmp_path):
    documents = helm_template(helm, tmp_path, "--set", "existingSecret=team-credentials")
    assert [doc["metadata"]["name"] for doc in documents if doc["kind"] == "Secret"] == []
    [deployment] = [doc for doc in documents if doc["kind"] == "Deployment"]
    env_from = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert {"secretRef": {"name": "team-credentials"}} in env_from


def test_upgrade_keeps_the_secret_key_of_the_installed_release(helm, tmp_path, helm_api):
    helm_api.store_secret(NAMESPACE, WEB_SECRET, SECRET_KEY="key-from-the-first-install", DATABASE_URL="x")
    helm_api.store_secret(NAMESPACE, "journeys-kube-journeys-postgresql", POSTGRES_PASSWORD="pg-from-the-first")
    documents = helm_template(helm, tmp_path, kubeconfig=helm_api.kubeconfig)
    data = secret_data(documents, WEB_SECRET)
    assert data["SECRET_KEY"] == "key-from-the-first-install"
    assert ":pg-from-the-first@" in data["DATABASE_URL"]
    looked_up = {request.path for request in helm_api.requests}
    assert f"/api/v1/namespaces/{NAMESPACE}/secrets/{WEB_SECRET}" in looked_up


def test_first_install_against_a_cluster_generates_a_key(helm, tmp_path, helm_api):
    documents = helm_template(helm, tmp_path, kubeconfig=helm_api.kubeconfig)
    assert len(secret_data(documents, WEB_SECRET)["SECRET_KEY"]) >= 50
    assert helm_api.request_count(rf"/secrets/{WEB_SECRET}$") >= 1  # it did look, and found nothing


def test_explicit_secret_key_wins_over_the_installed_one(helm, tmp_path, helm_api):
    helm_api.store_secret(NAMESPACE, WEB_SECRET, SECRET_KEY="key-from-the-first-install")
    documents = helm_template(
        helm, tmp_path, "--set", "secretKey=rotated-on-purpose-0123456789", kubeconfig=helm_api.kubeconfig
    )
    assert secret_data(documents, WEB_SECRET)["SECRET_KEY"] == "rotated-on-purpose-0123456789"
