"""Opt-in: apply every reference solution to a real cluster and check it passes.

Run against a disposable cluster (kind, minikube):
    KUBECONFIG=~/.kube/config .venv/bin/pytest -m real_cluster tests/sandbox/test_real_cluster.py
Each lab gets its own namespace, deleted afterwards. Skipped unless KUBECONFIG is set and kubectl
(and, for the Helm lab, helm) is on the PATH.
"""

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.sources import ClusterSettings, ClusterSource

pytestmark = [pytest.mark.real_cluster, pytest.mark.slow]
SOLUTIONS = Path(__file__).resolve().parents[2] / "journeys" / "sandbox" / "solutions"
WAIT_SECONDS = 300


@pytest.fixture
def namespace():
    if not os.environ.get("KUBECONFIG"):
        pytest.skip("set KUBECONFIG to a disposable cluster to run the reference solutions against it")
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not on the PATH")
    name = f"kj-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["kubectl", "create", "namespace", name], check=True, capture_output=True)
    yield name
    subprocess.run(["kubectl", "delete", "namespace", name, "--wait=false"], check=False, capture_output=True)


@pytest.mark.parametrize("slug", sorted(LABS))
def test_reference_solution_passes_on_a_real_cluster(namespace, slug):
    lab = LABS[slug]
    solution = SOLUTIONS / lab.solution_file
    if solution.suffix == ".sh":
        if not shutil.which("helm"):
            pytest.skip("helm is not on the PATH")
        subprocess.run(
            ["bash", str(solution)], check=True, env={**os.environ, "NAMESPACE": namespace}, cwd=solution.parent
        )
    else:
        subprocess.run(["kubectl", "apply", "-n", namespace, "-f", str(solution)], check=True, capture_output=True)
    source = ClusterSource(ClusterSettings(kubeconfig=os.environ["KUBECONFIG"].split(os.pathsep)[0]))
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        report = evaluate(lab, source.snapshot(kinds_for(lab), namespace), source="api")
        if report.passed or time.monotonic() > deadline:
            break
        time.sleep(5)
    failing = [(check.id, check.actual) for check in report.checks if check.required and check.status != "pass"]
    assert report.passed, failing


# Long enough for each broken manifest's symptom to show (an image pull that fails, a first crash).
BROKEN_SECONDS = 60


@pytest.mark.parametrize("slug", sorted(slug for slug, lab in LABS.items() if lab.fix))
def test_a_break_and_fix_lab_starts_broken_and_its_solution_repairs_it(namespace, slug):
    """The learner's path: apply the starting manifest, see it fail, apply the fix over it, see it pass."""
    lab = LABS[slug]
    source = ClusterSource(ClusterSettings(kubeconfig=os.environ["KUBECONFIG"].split(os.pathsep)[0]))
    subprocess.run(["kubectl", "apply", "-n", namespace, "-f", str(lab.starting_path)], check=True, capture_output=True)
    time.sleep(BROKEN_SECONDS)
    report = evaluate(lab, source.snapshot(kinds_for(lab), namespace), source="api")
    statuses = {check.id: check.status for check in report.checks}
    assert not report.passed and statuses["pods-ready"] == "fail", statuses
    subprocess.run(["kubectl", "apply", "-n", namespace, "-f", str(lab.solution_path)], check=True, capture_output=True)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        report = evaluate(lab, source.snapshot(kinds_for(lab), namespace), source="api")
        if report.passed or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert report.passed, [(check.id, check.actual) for check in report.checks if check.status != "pass"]
