"""Well-formed but hostile pastes: what they cost the checks, and what reaches the page and the log.

Found by attacking the lab check as a hostile learner would: inputs whose cost grew with the square
of their size, text inside objects that no shape check had seen, and characters no page can show.
"""

import json
import logging

import pytest

from journeys.sandbox import snapshot as snapshot_module
from journeys.sandbox.checks import rbac
from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.reading import read_documents
from journeys.sandbox.sources import FileSource, SourceError


def report_for(slug, objects):
    lab = LABS[slug]
    return evaluate(lab, FileSource(text=json.dumps(objects)).snapshot(kinds_for(lab)), source="file")


def test_base_60_numbers_stay_text_instead_of_costing_time_squared():
    # YAML 1.1 reads 1:30 as 90; converting 200 kB of :0 took a second, 1 MiB twenty. Kubernetes reads text.
    (document,) = read_documents("kind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: 1" + ":0" * 100_000)
    assert isinstance(document.data["data"]["x"], str)
    (document,) = read_documents("a: 1" + ":0" * 200 + ".5")  # overflowed float() with a 500
    assert isinstance(document.data["a"], str)


@pytest.mark.parametrize("number", ["9" * 41, "0x" + "f" * 39, "1" + "0" * 60 + ".5"])
def test_numbers_longer_than_any_field_are_refused_before_conversion(number):
    with pytest.raises(SourceError, match="longer than any Kubernetes field"):
        FileSource(text=f"kind: ConfigMap\nmetadata: {{name: a}}\nx: {number}").objects()


def least_privilege_bomb(bindings, rules):
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "pod-reader"}}
    role["rules"] = [{"apiGroups": [""], "resources": ["pods"], "verbs": [f"verb-{index}"]} for index in range(rules)]
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "roleRef": {"kind": "Role", "name": "pod-reader", "apiGroup": "rbac.authorization.k8s.io"},
        "subjects": [{"kind": "ServiceAccount", "name": "reporter"}],
    }
    return [role] + [{**binding, "metadata": {"name": f"binding-{index}"}} for index in range(bindings)]


def test_a_role_bound_many_times_is_read_once(monkeypatch):
    calls = []
    original = rbac.beyond_pod_reading
    monkeypatch.setattr(rbac, "beyond_pod_reading", lambda rule: calls.append(rule) or original(rule))
    report = report_for("least-privilege", least_privilege_bomb(bindings=300, rules=200))
    check = next(check for check in report.checks if check.id == "effective-permissions")
    # The Role's 200 rules once for effective-permissions, once for its own check; not 300 times each.
    assert len(calls) == 400
    assert check.status == "fail" and "binding-0, binding-1" in check.actual and "(and 295 more)" in check.actual
    assert len(check.actual) < 500


def test_owners_are_indexed_once_per_kind(monkeypatch):
    replica_sets = [
        {"kind": "ReplicaSet", "metadata": {"name": f"api-{index}", "uid": f"rs-{index}",
         "ownerReferences": [{"kind": "Deployment", "name": "api", "uid": "deploy"}]}}
        for index in range(300)
    ]  # fmt: skip
    pods = [
        {"kind": "Pod", "metadata": {"name": f"pod-{index}", "ownerReferences": [
            {"kind": "ReplicaSet", "name": f"api-{index % 300}", "uid": f"rs-{index % 300}"},
            {"kind": "ReplicaSet", "name": f"api-{index % 300}"},
        ]}}
        for index in range(600)
    ]  # fmt: skip
    deployment = {"kind": "Deployment", "metadata": {"name": "api", "uid": "deploy"}}
    snapshot = snapshot_module.Snapshot.from_objects("team-a", [deployment, *replica_sets, *pods])
    builds = []
    original = snapshot_module.Snapshot._owner_index
    monkeypatch.setattr(
        snapshot_module.Snapshot, "_owner_index", lambda self, kind: builds.append(kind) or original(self, kind)
    )
    found = snapshot.pods_of(deployment)
    assert len(found) == 600 and len({pod["metadata"]["name"] for pod in found}) == 600
    assert snapshot._owners.keys() == {"ReplicaSet", "Pod"} and len(builds) == 301


@pytest.mark.parametrize(
    "annotation",
    [
        "[1]",
        '"x"',
        "5",
        '{"spec": 5}',
        '{"spec": {"template": 5}}',
        '{"spec": {"template": {"spec": {"containers": [5]}}}}',
        '{"kind": "Pod", "spec": {"template": 5}}',
        "[" * 50_000 + "]" * 50_000,
    ],
    ids=["list", "text", "number", "spec-number", "template-number", "container-number", "other-kind", "deep"],
)
def test_a_last_applied_record_of_the_wrong_shape_is_no_record(annotation):
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "frontend",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": annotation},
        },
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
    }
    report = report_for("declarative-frontend", [deployment])
    statuses = {check.id: check.status for check in report.checks}
    assert "error" not in statuses.values()
    assert statuses["created-with-apply"] == "fail"


def test_a_tie_between_namespaces_is_decided_the_same_way_every_time():
    def cronjob(namespace):
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup", "namespace": namespace}}

    for order in (["team-b", "team-a"], ["team-a", "team-b"]):
        text = json.dumps([cronjob(namespace) for namespace in order])
        assert FileSource(text=text).snapshot(("CronJob",)).namespace == "team-a"


def test_lone_surrogates_from_json_escapes_are_read_as_replacement_characters():
    text = (
        '{"kind": "ConfigMap", "metadata": {"name": "a", "labels": {"\\ud800": "x\\udc00y"}}, '
        '"data": {"k": "\\ud83d\\ude00"}}'
    )
    (item,) = FileSource(text=text).objects()
    assert item["metadata"]["labels"] == {"\ufffd": "x\ufffdy"} and item["data"]["k"] == "😀"


def test_report_text_is_bounded_and_has_no_control_characters_from_the_start():
    containers = [{"name": f"c{index}-\x1b[31m" + "n" * 4000, "image": "i" * 4000} for index in range(60)]
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
                  "spec": {"replicas": 1, "template": {"spec": {"containers": containers}}}}  # fmt: skip
    report = report_for("healthy-app", [deployment])
    # The objects themselves, not only their stored copy: the page renders these.
    texts = [check.actual for check in report.checks] + [advice.message for advice in report.advisories]
    assert all(len(text) <= 500 and "\x1b" not in text for text in texts)
    assert len(json.dumps(report.as_dict())) < 40_000


def test_a_broken_check_is_logged_in_one_line(monkeypatch, caplog):
    lab = LABS["nightly-backup"]

    def broken(snapshot):
        raise RuntimeError("a bug")

    monkeypatch.setattr(lab.module, "CHECKS", [broken])
    with caplog.at_level(logging.WARNING, logger="journeys.sandbox.labs"):
        evaluate(lab, FileSource(text="kind: List\nitems: []").snapshot(("CronJob",)), source="file")
    (record,) = caplog.records
    assert record.exc_info is None and "broken failed on namespace default (RuntimeError)" in record.getMessage()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spec", "status"),
    [(5, 400), ({"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{}]}}}}}, 200)],
    ids=["refused", "checked"],
)
def test_a_lone_surrogate_never_breaks_the_page(client, spec, status):
    from django.urls import reverse

    from tests import factories

    factories.LessonFactory(module=factories.ModuleFactory(), slug="cronjobs", title="CronJobs")
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup", "labels": {"\ud800": 5}}}
    if status == 200:
        cronjob["metadata"]["labels"] = {"app": "\ud800"}
        spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["name"] = "\ud800"
    text = json.dumps({**cronjob, "spec": spec})  # json.dumps writes the lone half as the escape \ud800
    url = reverse("journeys:lab_check", args=["nightly-backup"])
    response = client.post(url, {"mode": "file", "paste": text}, headers={"HX-Request": "true"})
    assert response.status_code == status
    response.content.decode("utf-8")
