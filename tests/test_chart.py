"""The Helm chart: every rendering draws no advice from the portal's own production reviewer, and its
sandbox ClusterRole is the same as the standalone manifest."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from journeys.sandbox.checks.advisories import advisories_for
from journeys.sandbox.sources import FileSource

CHART = Path(settings.BASE_DIR) / "deploy" / "chart" / "kube-journeys"
VALUE_SETS = sorted((CHART / "ci-values").glob("*.yaml"))
NAMESPACE = "kube-journeys"


@pytest.fixture(scope="module")
def helm():
    found = Path(settings.BASE_DIR) / ".tools" / "bin" / "helm"
    binary = str(found) if found.exists() else shutil.which("helm")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("helm is missing: deploy/get-helm.sh installs it")
        pytest.skip("helm is not installed; run deploy/get-helm.sh")
    return binary


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
