"""Every lab check against fixtures shaped like real API server output: pass files pass, each
fail-<check-id> file fails exactly that check."""

import json
from pathlib import Path

import pytest
import yaml

from journeys.sandbox.checks.declarative import LAST_APPLIED
from journeys.sandbox.labs import LABS, evaluate
from journeys.sandbox.sources import FileSource

FIXTURES = Path(__file__).resolve().parent / "fixtures"


# Checks that cannot pass when another fails: the object they read is missing, or they build on it.
DEPENDENT_CHECKS = {
    ("least-privilege", "role-grants-pod-read-only"): {"effective-permissions"},
    ("least-privilege", "rolebinding"): {"effective-permissions"},
    ("least-privilege", "role-exists"): {"role-grants-pod-read-only", "rolebinding", "effective-permissions"},
    ("least-privilege", "serviceaccount-exists"): {
        "rolebinding",
        "effective-permissions",
        "workload-uses-serviceaccount",
    },
    ("stateful-web", "headless-service"): {"service-selects-pods"},
    ("stateful-web", "replicas"): {"pods-ready"},
    ("stateful-web", "volume-claim-template"): {"volume-mounted"},
    ("team-quota", "quota-exists"): {"quota-covers-resources"},
    ("helm-release", "release-objects"): {"release-namespace", "release-workload"},
    ("declarative-frontend", "replicas"): {"available"},
    ("declarative-frontend", "created-with-apply"): {"not-changed-imperatively"},
    ("healthy-app", "probe-ports-declared"): {"pods-ready"},
    # A break-and-fix lab's faults show in the Pods: a fixture of the fault as deployed fails their check too.
    ("fix-hardened-web", "writable-tmp"): {"pods-ready"},
    ("fix-pending", "resources-fit"): {"pods-scheduled", "pods-ready"},
    ("fix-pending", "any-node"): {"pods-scheduled", "pods-ready"},
    ("fix-pending", "pods-scheduled"): {"pods-ready"},
    ("fix-probes", "time-to-start"): {"pods-ready"},
    ("fix-probes", "probes-reach-the-app"): {"pods-ready"},
    ("fix-orders", "image-pullable"): {"pods-ready"},
    ("fix-orders", "setting-from-configmap"): {"pods-ready"},
    ("fix-orders", "memory-fits"): {"pods-ready"},
}


def allowed_co_failures(lab, check_id):
    """Existence checks take every other check down with them; a few checks depend on one another."""
    if check_id.endswith("-exists") and (lab.slug, check_id) not in DEPENDENT_CHECKS:
        return set(check_ids(lab))
    return DEPENDENT_CHECKS.get((lab.slug, check_id), set())


def fixture_files():
    return sorted(FIXTURES.glob("*/*.yaml"))


def check_ids(lab):
    return [check.__name__.replace("_", "-") for check in lab.checks]


def report_for(path):
    lab = LABS[path.parent.name]
    snapshot = FileSource(text=path.read_text()).snapshot(lab.kinds)
    return lab, evaluate(lab, snapshot, source="file")


def test_every_lab_and_every_check_has_fixtures():
    assert {path.name for path in FIXTURES.iterdir() if path.is_dir()} == set(LABS)
    for slug, lab in LABS.items():
        names = {path.stem for path in (FIXTURES / slug).glob("*.yaml")}
        assert "pass" in names, slug
        for check_id in check_ids(lab):
            assert any(name == f"fail-{check_id}" or name.startswith(f"fail-{check_id}-") for name in names), (
                f"{slug}: no fixture fails {check_id}"
            )


@pytest.mark.parametrize(
    "path",
    [path for path in fixture_files() if path.stem.startswith("pass")],
    ids=lambda path: f"{path.parent.name}/{path.stem}",
)
def test_passing_fixtures_pass_every_required_check(path):
    _, report = report_for(path)
    failing = [(check.id, check.actual) for check in report.checks if check.required and check.status != "pass"]
    assert report.passed, failing


@pytest.mark.parametrize(
    "path",
    [path for path in fixture_files() if path.stem.startswith("fail-")],
    ids=lambda path: f"{path.parent.name}/{path.stem}",
)
def test_failing_fixtures_fail_exactly_their_check(path):
    lab, report = report_for(path)
    name = path.stem.removeprefix("fail-")
    [check_id] = [
        check_id
        for check_id in sorted(check_ids(lab), key=len, reverse=True)
        if name == check_id or name.startswith(f"{check_id}-")
    ][:1]
    statuses = {check.id: check for check in report.checks}
    assert statuses[check_id].status == "fail", statuses[check_id]
    assert statuses[check_id].hint and statuses[check_id].actual and statuses[check_id].expected
    allowed = allowed_co_failures(lab, check_id) | {check_id}
    others = [
        (check.id, check.actual)
        for check in report.checks
        if check.required and check.id not in allowed and check.status != "pass"
    ]
    assert not others, others
    assert not report.passed


@pytest.mark.parametrize("path", fixture_files(), ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_fixtures_are_valid_api_objects(path):
    """Each object deserialises into the official client's model of its kind, as a server response would."""
    from kubernetes.client import ApiClient

    client = ApiClient()
    for item in FileSource(text=path.read_text()).objects():
        model = client.deserialize(json.dumps(item), f"V1{item['kind']}", "application/json")
        assert model.metadata.name == item["metadata"]["name"]
        assert client.sanitize_for_serialization(model).keys() >= {"apiVersion", "kind", "metadata"}


SOLUTIONS = Path(__file__).resolve().parents[2] / "journeys" / "sandbox" / "solutions"
# Checks that read what only a running cluster reports (readiness, completion): a file cannot pass
# them, and the pass fixtures, each a lab as deployed, cover them.
NEEDS_A_CLUSTER = {
    "stateful-web": {"pods-ready"},
    "node-agent": {"ready-on-every-node"},
    "batch-pi": {"job-complete"},
    "declarative-frontend": {"available"},
    "healthy-app": {"pods-ready"},
    "fix-hardened-web": {"pods-ready"},
    "fix-pending": {"pods-scheduled", "pods-ready"},
    "fix-probes": {"pods-ready"},
    "fix-orders": {"pods-ready"},
}
YAML_SOLUTIONS = sorted(slug for slug in LABS if slug != "helm-release")


def applied_solution(lab):
    """The reference solution's objects as `kubectl apply -f` leaves them: each records the file it came from."""
    items = [item for item in yaml.safe_load_all((SOLUTIONS / lab.solution_file).read_text()) if item]
    for item in items:
        item["metadata"].setdefault("namespace", "team-a")
        item["metadata"].setdefault("annotations", {})[LAST_APPLIED] = json.dumps(item, sort_keys=True)
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    return FileSource(text=text).snapshot(lab.kinds, namespace="team-a")


@pytest.mark.parametrize("slug", YAML_SOLUTIONS)
def test_reference_solutions_pass_every_check_a_file_can_pass(slug):
    """The answer the portal reveals passes its own lab: whatever is left depends only on the cluster running it."""
    lab = LABS[slug]
    report = evaluate(lab, applied_solution(lab), source="file")
    failing = {check.id for check in report.checks if check.required and check.status != "pass"}
    assert failing <= NEEDS_A_CLUSTER.get(slug, set()), [
        (check.id, check.actual) for check in report.checks if check.id in failing
    ]


@pytest.mark.parametrize("slug", YAML_SOLUTIONS)
def test_reference_solutions_draw_no_advice(slug):
    """The answers the portal reveals are what a production reviewer would approve of."""
    lab = LABS[slug]
    snapshot = FileSource(text=(SOLUTIONS / lab.solution_file).read_text()).snapshot(lab.kinds, namespace="team-a")
    report = evaluate(lab, snapshot, source="file")
    assert report.advisories == []


def test_a_grpc_probe_must_give_its_port_as_a_number():
    """httpGet and tcpSocket may name a declared port; the API takes only a number for grpc."""
    from journeys.sandbox.sources import SourceError

    lab = LABS["healthy-app"]

    def snapshot(port):
        items = [item for item in yaml.safe_load_all((SOLUTIONS / lab.solution_file).read_text()) if item]
        [deployment] = [item for item in items if item["kind"] == "Deployment"]
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        container["ports"].append({"containerPort": 9000, "name": "grpc"})
        container["livenessProbe"] = {"grpc": {"port": port}}
        text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        return FileSource(text=text).snapshot(lab.kinds, namespace="team-a")

    with pytest.raises(SourceError) as refused:
        snapshot("grpc")
    assert "livenessProbe.grpc.port" in refused.value.message
    checks = {check.id: check for check in evaluate(lab, snapshot(9000), source="file").checks}
    assert checks["probe-ports-declared"].status == "pass"
