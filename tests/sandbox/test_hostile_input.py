"""What a hostile or clumsy paste gets: a clear refusal or a bounded report, never a crash or a 500.

The nesting cases run in a child process: if the reader ever hands deep nesting to a recursive
parser again, the child dies (SIGSEGV) and the test fails instead of the whole run.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.reading import MAX_DEPTH, MAX_VALUES
from journeys.sandbox.sources import MAX_PASTE_BYTES, FileSource, SourceError

CHILD = textwrap.dedent(
    """
    import os, sys, time
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django
    django.setup()
    from journeys.sandbox.sources import FileSource, SourceError
    text = sys.stdin.read()
    started = time.process_time()
    try:
        FileSource(text=text).objects()
        print("read")
    except SourceError as error:
        print(error.code, error.message)
    print(round(time.process_time() - started, 3))
    """
)


def read_in_child(text):
    done = subprocess.run(
        [sys.executable, "-c", CHILD], input=text, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"the reader crashed (exit {done.returncode}): {done.stderr[-500:]}"
    return done.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    [
        "spec: " + "[" * 28_000,  # 56 kB that used to kill a worker
        "spec: " + "[" * (MAX_PASTE_BYTES - 10),
        "spec: " + "{a: " * 200_000,
        "- " * 400_000 + "x",
        "".join(" " * level + "a:\n" for level in range(1_400)),
        "[" * 100_000 + "]" * 100_000,  # JSON
    ],
    ids=["flow-56kB", "flow-1MiB", "flow-mappings", "block-sequences", "block-mappings", "json"],
)
def test_deep_nesting_is_refused_before_it_costs_anything(text):
    verdict, _seconds = read_in_child(text)
    assert verdict.startswith("bad-file") and f"more than {MAX_DEPTH} levels" in verdict


def test_nesting_just_under_the_limit_is_read():
    depth = MAX_DEPTH - 4
    text = "kind: ConfigMap\nmetadata: {name: deep}\nnested: " + "[" * depth + "]" * depth
    assert FileSource(text=text).objects()[0]["metadata"]["name"] == "deep"


def test_too_many_values_are_refused_as_too_large():
    with pytest.raises(SourceError) as caught:
        FileSource(text="[" + "0," * MAX_VALUES + "0]").objects()
    assert caught.value.code == "too-large" and caught.value.is_input_problem


def cronjob_text(**changes):
    obj = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "backup", "namespace": "team-a"},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox:1.36"}]}}}},
        },
    }
    for path, value in changes.items():
        target = obj
        *parents, last = path.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        target[last] = value
    return json.dumps(obj)


CONTAINERS = "spec.jobTemplate.spec.template.spec.containers"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (cronjob_text(spec=5), "Document 1, CronJob backup: `spec` must be a mapping, found the number 5"),
        (cronjob_text(**{CONTAINERS: [5]}), f"`{CONTAINERS}[0]` must be a mapping, found the number 5"),
        (cronjob_text(**{f"{CONTAINERS}.0.image": 5}), f"`{CONTAINERS}[0].image` must be text, found the number 5"),
        (cronjob_text(**{"metadata.name": ["a"]}), "`metadata.name` must be the object's name (text), found a list"),
        (cronjob_text(kind=["CronJob"]), "`kind` must be text such as CronJob, found a list"),
        ('{"kind": "List", "items": 5}', "its `items` is the number 5, not a list"),
        ("kind: CronJob\nmetadata: {name: backup, namespace: 2024-01-01T10:00:00Z}", "`metadata.namespace` must be"),
        ("kind: CronJob\nmetadata: {name: backup, namespace: !!binary aGk=}", "tag !!binary at line 2"),
        (cronjob_text(**{"metadata.namespace": "n" * 64}), "`metadata.namespace` must be a namespace name"),
        (cronjob_text(**{"metadata.namespace": "a\x00b"}), "`metadata.namespace` must be a namespace name"),
        (
            cronjob_text(**{"metadata.annotations": 1.5}),
            "`metadata.annotations` must be a mapping, found the number 1.5",
        ),
        (cronjob_text(**{"spec.startingDeadlineSeconds": "600"}), "must be a whole number; remove the quotes"),
        (cronjob_text(**{"spec.startingDeadlineSeconds": True}), "must be a whole number, found true"),
        ("kind: CronJob\nmetadata: {name: backup}\nspec: {suspend: .nan}", ".nan at line 3 is not a number"),
        ("[1e999]", "too large for any Kubernetes field"),
    ],
)
def test_wrong_shapes_are_named_per_object_in_plain_words(text, named):
    with pytest.raises(SourceError) as caught:
        FileSource(text=text).snapshot(("CronJob",))
    assert caught.value.code == "bad-file"
    assert named in caught.value.message


def test_a_refusal_names_a_few_objects_and_counts_the_rest():
    broken = [json.loads(cronjob_text(spec=index)) for index in range(40)]
    for index, obj in enumerate(broken):
        obj["metadata"]["name"] = f"backup-{index}"
    with pytest.raises(SourceError) as caught:
        FileSource(text=json.dumps(broken)).objects()
    message = caught.value.message
    assert message.count("must be a mapping") == 5 and "… and 35 more objects like these." in message
    assert len(message) < 2000


TABLE = """NAME     SCHEDULE    TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE
backup   0 2 * * *   <none>     False     0        <none>          9s"""
DESCRIBE = """Name:                          backup
Namespace:                     team-a
Labels:                        <none>
Schedule:                      0 2 * * *
Events:                        <none>"""


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        (TABLE, "-o yaml"),
        (DESCRIBE, "`kubectl describe` output"),
        ("No resources found in team-a namespace.", "kubectl found nothing"),
        ('Error from server (NotFound): cronjobs.batch "backup" not found', "an error kubectl printed"),
        ("$ kubectl get cronjob backup -o yaml\napiVersion: batch/v1", "not the command"),
        ("cronjob.batch/backup\n", "-o name"),
        ("I created the cronjob and it works", "plain text, not Kubernetes objects"),
        ("apiVersion: v1\nkind: Pod\nmetadata:\n\tname: web", 'line 4 ("name: web") has a tab character'),
        ('{"kind": "Pod", "metadata": {"name": "web"},}', "line 1, column 45"),
    ],
    ids=["table", "describe", "nothing-found", "kubectl-error", "command", "names", "prose", "tab", "json-comma"],
)
def test_output_that_is_not_objects_says_what_to_run_instead(text, advice):
    with pytest.raises(SourceError) as caught:
        FileSource(text=text).objects()
    assert advice in caught.value.message


def test_yaml_values_are_plain_json_types():
    text = (
        "kind: ConfigMap\nmetadata: {name: c, creationTimestamp: 2024-01-01T00:00:00Z}\n"
        "data: {on: yes, when: 2024-01-01}"
    )
    item = FileSource(text=text).objects()[0]
    assert item["metadata"]["creationTimestamp"] == "2024-01-01T00:00:00Z"
    assert item["data"] == {"on": True, "when": "2024-01-01"}
    json.dumps(item, allow_nan=False)


def many_deployments(count):
    return "".join(
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{index}, namespace: team-a}}\n"
        f"spec:\n  replicas: 1\n  template:\n    spec:\n      containers: [{{name: app, image: nginx}}]\n"
        for index in range(count)
    )


@pytest.mark.parametrize("slug", ["team-quota", "healthy-app", "helm-release"])
def test_reports_stay_small_whatever_the_namespace_holds(slug):
    lab = LABS[slug]
    text = many_deployments(5000)
    assert len(text.encode()) < MAX_PASTE_BYTES
    report = evaluate(lab, FileSource(text=text).snapshot(kinds_for(lab)), source="file")
    stored = json.dumps(report.as_dict(), allow_nan=False)
    assert len(stored) < 20_000
    assert len(report.advisories) <= 21
    if slug == "team-quota":
        assert any("(and 4995 more)" in check.actual for check in report.checks)
        assert (
            report.advisories[-1].id == "more-advice"
            and "advice for 4,997 more workloads" in report.advisories[-1].message
        )


def test_report_text_is_storable_whatever_the_objects_hold():
    text = json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api", "namespace": "team-a"},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "a\ud800\x00b", "image": "x" * 4000}]}}},
    })  # fmt: skip
    lab = LABS["healthy-app"]
    data = evaluate(lab, FileSource(text=text).snapshot(kinds_for(lab)), source="file").as_dict()
    stored = json.dumps(data, ensure_ascii=False, allow_nan=False)
    stored.encode("utf-8")  # a lone surrogate would raise here, as PostgreSQL would refuse it
    assert "\x00" not in stored and max(len(advice["message"]) for advice in data["advisories"]) <= 1000


def test_a_check_that_breaks_costs_only_itself(monkeypatch):
    lab = LABS["nightly-backup"]

    def broken(snapshot):
        raise RuntimeError("a bug in a check")

    broken.__name__ = "broken_check"
    monkeypatch.setattr(lab.module, "CHECKS", [*lab.module.CHECKS, broken])
    monkeypatch.setattr("journeys.sandbox.labs.advisories_for", lambda *args: 1 / 0)
    report = evaluate(lab, FileSource(text=cronjob_text()).snapshot(kinds_for(lab)), source="file")
    assert report.checks[-1].status == "error" and report.checks[0].status == "pass"
    assert report.advisories == [] and report.outcome == "error"


@pytest.mark.django_db
def test_the_panel_lists_each_refused_object_and_records_nothing(client):
    from django.urls import reverse

    from journeys.models import LabRun
    from tests import factories

    factories.LessonFactory(module=factories.ModuleFactory(), slug="cronjobs", title="CronJobs")
    broken = [json.loads(cronjob_text(spec=5)), json.loads(cronjob_text(**{f"{CONTAINERS}.0.image": 5}))]
    broken[1]["metadata"]["name"] = "other"
    response = client.post(
        reverse("journeys:lab_check", args=["nightly-backup"]),
        {"mode": "file", "paste": json.dumps(broken)},
        headers={"HX-Request": "true"},
    )
    content = response.content.decode()
    assert response.status_code == 400 and "<html" not in content
    alert = content.split('class="alert alert--error lab__error"')[1].split("</div>")[0]
    assert alert.count("<li>") == 2 and "<code>spec</code> must be a mapping, found the number 5" in alert
    assert not LabRun.objects.exists()


def test_five_thousand_objects_are_read_and_one_more_is_refused():
    items = "".join(f"- {{kind: ConfigMap, metadata: {{name: c{index}}}}}\n" for index in range(5000))
    assert len(FileSource(text=f"apiVersion: v1\nkind: List\nitems:\n{items}").objects()) == 5000
    documents = "".join(f"---\nkind: ConfigMap\nmetadata: {{name: c{index}}}\n" for index in range(5001))
    with pytest.raises(SourceError) as caught:
        FileSource(text=documents).objects()
    assert caught.value.code == "too-large" and "More than 5,000 objects" in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "kind: Pod\nmetadata: {name: 0x" + "f" * 20_000 + "}",  # hexadecimal escapes the 4,300-digit limit
        '{"kind": "Pod", "metadata": {"name": ' + "9" * 4000 + "}}",
        '{"kind": "Pod", "metadata": {"name": "p", "labels": {"' + "k" * 100_000 + '": 5}}}',
    ],
    ids=["hex-int", "long-json-int", "long-key"],
)
def test_huge_numbers_and_keys_give_a_short_refusal(text):
    with pytest.raises(SourceError) as caught:
        FileSource(text=text).objects()
    assert caught.value.code == "bad-file" and len(caught.value.message) < 500


def test_thousands_of_objects_without_a_kind_are_named_five_at_a_time():
    items = [{"metadata": {"name": f"thing-{index}"}} for index in range(4000)]
    with pytest.raises(SourceError) as caught:
        FileSource(text=json.dumps({"apiVersion": "v1", "kind": "List", "items": items})).objects()
    message = caught.value.message
    assert message.count("`kind` is missing") == 5 and "… and 3,995 more objects like these." in message
