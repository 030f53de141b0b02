"""`manage.py sandbox_check`: the exit codes and JSON report other tools rely on."""

import json

import pytest
from django.core.management import CommandError, call_command

pytest_plugins = ["tests.k8s_emulator"]

CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "backup", "namespace": "team-a"},
    "spec": {
        "schedule": "0 2 * * *",
        "concurrencyPolicy": "Forbid",
        "startingDeadlineSeconds": 600,
        "jobTemplate": {
            "spec": {
                "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "b", "image": "busybox:1.36"}]}}
            }
        },
    },
}


def run(*args, capsys):
    with pytest.raises(SystemExit) as exited:
        call_command("sandbox_check", *args)
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def write(tmp_path, data, name="dump.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_passing_file_exits_0_and_prints_the_json_contract(tmp_path, capsys):
    code, out, err = run("--lab", "nightly-backup", "--from-file", write(tmp_path, CRONJOB), "--json", capsys=capsys)
    assert code == 0 and err == ""
    report = json.loads(out)
    assert set(report) == {"lab", "namespace", "source", "passed", "checks", "advisories"}
    assert (report["lab"], report["namespace"], report["source"], report["passed"]) == (
        "nightly-backup",
        "team-a",
        "file",
        True,
    )
    assert {check["id"] for check in report["checks"]} == {
        "cronjob-exists",
        "schedule",
        "concurrency-policy",
        "starting-deadline",
    }
    for check in report["checks"]:
        assert set(check) == {"id", "title", "status", "required", "expected", "actual", "hint"}
        assert check["status"] in {"pass", "fail", "error", "skip"}
    for advisory in report["advisories"]:
        assert {"id", "status", "message"} <= set(advisory)


def test_failing_checks_exit_1_with_readable_output(tmp_path, capsys):
    dump = json.loads(json.dumps(CRONJOB))
    dump["spec"]["schedule"] = "0 3 * * *"
    code, out, _ = run("--lab", "nightly-backup", "--from-file", write(tmp_path, dump), capsys=capsys)
    assert code == 1
    assert "✗ Runs every day at 02:00: 0 3 * * * (every day at 03:00)" in out and "NOT PASSED" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [("key: [broken", "not valid YAML"), ("- a", "not a Kubernetes object"), (None, "does not exist")],
)
def test_bad_files_exit_2_with_one_line_reason(tmp_path, capsys, content, reason):
    path = write(tmp_path, content) if content is not None else str(tmp_path / "missing.yaml")
    code, out, err = run("--lab", "nightly-backup", "--from-file", path, capsys=capsys)
    assert code == 2 and out == ""
    assert err.startswith("sandbox_check: ") and reason in err.splitlines()[0]


def test_namespace_through_the_api(kube_emulator, kubeconfig, capsys):
    kube_emulator.add_namespace("team-a")
    kube_emulator.add(CRONJOB)
    code, out, _ = run(
        "--lab", "nightly-backup", "--namespace", "team-a", "--kubeconfig", str(kubeconfig), "--json", capsys=capsys
    )
    assert code == 0 and json.loads(out)["source"] == "api"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ((r"/cronjobs", 403), "not allowed to list cronjobs"),
        ((r"/namespaces/team-a$", 404), "does not exist"),
        ((r"/cronjobs", 500), "(500"),
    ],
)
def test_api_problems_exit_2(kube_emulator, kubeconfig, capsys, fault, reason):
    kube_emulator.add_namespace("team-a")
    kube_emulator.fail(*fault)
    code, out, err = run(
        "--lab", "nightly-backup", "--namespace", "team-a", "--kubeconfig", str(kubeconfig), capsys=capsys
    )
    assert code == 2 and out == "" and reason in err


def test_unreachable_and_unauthorised_exit_2(kube_emulator, tmp_path, capsys):
    bad_token = kube_emulator.write_kubeconfig(tmp_path / "bad", token="wrong")
    code, _, err = run("--lab", "batch-pi", "--namespace", "team-a", "--kubeconfig", str(bad_token), capsys=capsys)
    assert code == 2 and "401" in err
    code, _, err = run(
        "--lab", "batch-pi", "--namespace", "team-a", "--kubeconfig", str(tmp_path / "nope"), capsys=capsys
    )
    assert code == 2 and "no kubeconfig found" in err


def test_unknown_lab_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'nope'"):
        call_command("sandbox_check", "--lab", "nope", "--from-file", "x")
