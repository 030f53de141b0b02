"""`manage.py sandbox_check`: the exit codes and JSON report other tools rely on."""

import codecs
import io
import json
import logging
import os
import random
import socket
import sys
import threading

import pytest
import yaml
from django.core.management import CommandError, call_command

from journeys.management.commands import sandbox_check

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
        "job-template",
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


# --- Any input ends in exit 0, 1 or 2 with the promised output, never a traceback ---


def assert_contract(code, out, err, *, json_mode=False):
    """Exit 2 means one "sandbox_check: " line on stderr; exit 0/1 means a report on stdout."""
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in out + err
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("sandbox_check: "), err
    else:
        assert err == "" and out
    if json_mode and out:
        json.loads(out)


MALFORMED = {
    "a spec that is a number": "kind: CronJob\nmetadata: {name: backup}\nspec: 5\n",
    "a name that is a list": "kind: CronJob\nmetadata: {name: [a]}\n",
    "a kind that is a list": "kind: [CronJob]\nmetadata: {name: backup}\n",
    "List items that are a number": "apiVersion: v1\nkind: List\nitems: 5\n",
    "List items that are numbers": "apiVersion: v1\nkind: List\nitems: [5, 6]\n",
    "metadata that is a number": "kind: CronJob\nmetadata: 5\n",
    "a namespace that is a list": "kind: CronJob\nmetadata: {name: backup, namespace: [a]}\nspec: {}\n",
    "a jobTemplate that is a string": "kind: CronJob\nmetadata: {name: backup}\nspec: {jobTemplate: x}\n",
    "a schedule that is a list": "kind: CronJob\nmetadata: {name: backup}\nspec: {schedule: [0, 2]}\n",
    "containers that are a mapping": (
        "kind: CronJob\nmetadata: {name: backup}\n"
        "spec: {jobTemplate: {spec: {template: {spec: {containers: {a: b}}}}}}\n"
    ),
    "a List kind that is a number": "kind: 5\nmetadata: {name: backup}\n",
    "several wrong objects in a List": (
        "kind: List\nitems:\n- {kind: CronJob, metadata: {name: a}, spec: 5}\n"
        "- {kind: CronJob, metadata: {name: b}, spec: {schedule: [1]}}\n- {kind: CronJob, metadata: {name: [c]}}\n"
    ),
}


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("content", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_objects_exit_2_or_report_never_a_traceback(tmp_path, capsys, content, json_mode):
    args = ["--lab", "nightly-backup", "--from-file", write(tmp_path, content, "dump.yaml")]
    code, out, err = run(*args, *(["--json"] if json_mode else []), capsys=capsys)
    assert code != 0, out
    assert_contract(code, out, err, json_mode=json_mode)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "is empty"),
        ("\n  \n\n", "is empty"),
        # The reader words these; the command only promises exit 2 and one line.
        ("hello world, this is not yaml\n", ""),
        (": : :\n\t- [\n", ""),
        ("{not json at all", ""),
        ("[" * 5000 + "]" * 5000, ""),
        ("\x00\x01\x02 binary-ish but UTF-8\n", ""),
    ],
    ids=["empty", "blank", "prose", "garbage", "broken-json", "deep-json", "control-characters"],
)
def test_garbage_and_empty_files_exit_2(tmp_path, capsys, content, reason):
    code, out, err = run("--lab", "nightly-backup", "--from-file", write(tmp_path, content, "x.yaml"), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and reason in err


def test_random_bytes_are_not_utf8_text(tmp_path, capsys):
    path = tmp_path / "noise.bin"
    path.write_bytes(random.Random(7).randbytes(4096))
    code, out, err = run("--lab", "nightly-backup", "--from-file", str(path), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "is not UTF-8 text" in err


def test_latin1_file_is_named_not_utf8(tmp_path, capsys):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"kind: CronJob\nmetadata: {name: caf\xe9}\n")
    code, _, err = run("--lab", "nightly-backup", "--from-file", str(path), capsys=capsys)
    assert code == 2 and f"the file {path} is not UTF-8 text (line 2 holds" in err


def test_utf8_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "bom.yaml"
    path.write_bytes(codecs.BOM_UTF8 + yaml.safe_dump(CRONJOB).encode())
    code, out, err = run("--lab", "nightly-backup", "--from-file", str(path), "--json", capsys=capsys)
    assert (code, err) == (0, "") and json.loads(out)["passed"] is True


def test_file_over_one_mib_is_refused(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(CRONJOB) + "#" * (1024 * 1024))
    code, out, err = run("--lab", "nightly-backup", "--from-file", str(path), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "larger than 1 MiB" in err


def test_a_directory_is_refused(tmp_path, capsys):
    code, out, err = run("--lab", "nightly-backup", "--from-file", str(tmp_path), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "is a directory" in err


def test_an_empty_path_is_refused(capsys):
    code, out, err = run("--lab", "nightly-backup", "--from-file", "", capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "path is empty" in err


def test_an_unreadable_file_is_refused(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, CRONJOB)

    # Root reads any file whatever its mode, so the refusal is simulated where the file is opened.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sandbox_check, "open", refuse, raising=False)
    code, out, err = run("--lab", "nightly-backup", "--from-file", path, capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "permission denied" in err


def test_other_read_errors_are_one_line(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sandbox_check, "open", broken, raising=False)
    code, out, err = run("--lab", "nightly-backup", "--from-file", write(tmp_path, CRONJOB), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "cannot be read (Input/output error)" in err


def test_a_named_pipe_is_read(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text(json.dumps(CRONJOB)), daemon=True)
    writer.start()
    code, out, err = run("--lab", "nightly-backup", "--from-file", str(fifo), "--json", capsys=capsys)
    writer.join(timeout=5)
    assert (code, err) == (0, "") and json.loads(out)["passed"] is True


def test_a_named_pipe_nobody_writes_to_does_not_hang(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sandbox_check, "FIFO_WAIT_SECONDS", 0.2)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, out, err = run("--lab", "nightly-backup", "--from-file", str(fifo), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "nothing was written to the pipe" in err


def stdin_of(monkeypatch, data):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_dash_reads_standard_input(monkeypatch, capsys):
    stdin_of(monkeypatch, yaml.safe_dump(CRONJOB).encode())
    code, out, err = run("--lab", "nightly-backup", "--from-file", "-", "--json", capsys=capsys)
    assert (code, err) == (0, "") and json.loads(out)["source"] == "file"


def test_standard_input_has_the_same_limits(monkeypatch, capsys):
    stdin_of(monkeypatch, b"#" * (1024 * 1024 + 1))
    code, out, err = run("--lab", "nightly-backup", "--from-file", "-", capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "standard input is larger than 1 MiB" in err
    stdin_of(monkeypatch, b"")
    code, _, err = run("--lab", "nightly-backup", "--from-file", "-", capsys=capsys)
    assert code == 2 and "standard input is empty" in err


def test_a_check_that_crashes_is_one_line_and_the_traceback_is_logged_at_debug(tmp_path, capsys, caplog, monkeypatch):
    def crash(*args, **kwargs):
        raise TypeError("unexpected shape")

    monkeypatch.setattr(sandbox_check, "evaluate", crash)
    caplog.set_level(logging.DEBUG, logger=sandbox_check.__name__)
    code, out, err = run("--lab", "nightly-backup", "--from-file", write(tmp_path, CRONJOB), "--json", capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and out == ""
    assert err == (
        "sandbox_check: the checks could not read these objects (TypeError); check that the input is unmodified "
        "kubectl output (kubectl get ... -o yaml)\n"
    )
    (record,) = [record for record in caplog.records if record.name == sandbox_check.__name__]
    assert record.levelno == logging.DEBUG and record.exc_info[0] is TypeError


def test_a_reason_written_on_several_lines_is_printed_as_one():
    reason = "Some objects cannot be checked:\n- Item 1: `spec` is a number\n- Item 2:  a name\n\nFix them."
    assert sandbox_check._one_line(reason) == (
        "Some objects cannot be checked: Item 1: `spec` is a number; Item 2: a name; Fix them."
    )


def test_verbosity_2_adds_a_detail_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sandbox_check, "evaluate", lambda *args, **kwargs: {}["missing"])
    args = ["--lab", "nightly-backup", "--from-file", write(tmp_path, CRONJOB)]
    _, _, quiet = run(*args, capsys=capsys)
    code, _, verbose = run(*args, "--verbosity", "2", capsys=capsys)
    assert code == 2 and len(quiet.splitlines()) == 1
    assert verbose.splitlines() == [quiet.strip(), "sandbox_check: detail: KeyError: 'missing'"]


def test_stray_prints_go_to_stderr_in_json_mode(tmp_path, capsys, monkeypatch):
    real = sandbox_check.evaluate

    def noisy(*args, **kwargs):
        print("a library that prints")
        return real(*args, **kwargs)

    monkeypatch.setattr(sandbox_check, "evaluate", noisy)
    code, out, err = run("--lab", "nightly-backup", "--from-file", write(tmp_path, CRONJOB), "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["passed"] is True
    assert "a library that prints" in err


# --- The Kubernetes API ---


def api(kubeconfig, *extra, namespace="team-a", lab="nightly-backup"):
    return ("--lab", lab, "--namespace", namespace, "--kubeconfig", str(kubeconfig), *extra)


def test_failing_namespace_exits_1(kube_emulator, kubeconfig, capsys):
    kube_emulator.add_namespace("team-a")
    kube_emulator.add(CRONJOB | {"spec": CRONJOB["spec"] | {"concurrencyPolicy": "Allow"}})
    code, out, err = run(*api(kubeconfig, "--json"), capsys=capsys)
    assert code == 1 and json.loads(out)["passed"] is False
    assert "sandbox_check" not in err


def test_missing_namespace_exits_2(kube_emulator, kubeconfig, capsys):
    code, out, err = run(*api(kubeconfig), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and out == "" and 'The namespace "team-a" does not exist' in err


def test_forbidden_namespace_read_exits_2(kube_emulator, kubeconfig, capsys):
    kube_emulator.add_namespace("team-a")
    kube_emulator.fail(r"/namespaces/team-a$", 403)
    code, out, err = run(*api(kubeconfig, "--json"), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and out == "" and "not allowed to get namespaces" in err


def test_closed_port_exits_2_with_one_line(kube_emulator, tmp_path, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = kube_emulator.write_kubeconfig(tmp_path / "closed", server=f"http://127.0.0.1:{port}")
    code, out, err = run(*api(closed), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "cannot reach the Kubernetes API" in err
    code, _, err = run(*api(closed), "--verbosity", "2", capsys=capsys)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 2 and lines[1].startswith("sandbox_check: detail: ")


def test_slow_api_exits_2_as_a_timeout(kube_emulator, kubeconfig, capsys, settings):
    settings.SANDBOX_READ_TIMEOUT = 0.2
    kube_emulator.add_namespace("team-a")
    kube_emulator.delay(r"/namespaces/team-a$", 2)
    code, out, err = run(*api(kubeconfig), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "did not answer in time" in err


def test_broken_kubeconfig_exits_2(tmp_path, capsys):
    broken = tmp_path / "kubeconfig"
    broken.write_text("clusters: [\n")
    code, out, err = run(*api(broken), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "not set up correctly" in err


def test_empty_namespace_exits_2(kubeconfig, capsys):
    code, out, err = run(*api(kubeconfig, namespace=""), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and "namespace name is empty" in err


def test_unexpected_error_reading_the_api_is_one_line(kube_emulator, kubeconfig, capsys, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("client bug")

    monkeypatch.setattr(sandbox_check.ClusterSource, "snapshot", crash)
    code, out, err = run(*api(kubeconfig, "--json"), capsys=capsys)
    assert_contract(code, out, err)
    assert code == 2 and out == "" and "(RuntimeError)" in err and "LOG_LEVEL=DEBUG" in err


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
@pytest.mark.parametrize(
    "spec",
    [
        5,
        {"schedule": [0, 2]},
        {"jobTemplate": "x"},
        {"jobTemplate": {"spec": {"template": {"spec": {"containers": 5}}}}},
    ],
    ids=["number", "list-schedule", "string-template", "number-containers"],
)
def test_malformed_objects_from_the_api_exit_2_or_report(kube_emulator, kubeconfig, capsys, spec, json_mode):
    kube_emulator.add_namespace("team-a")
    kube_emulator.add(CRONJOB | {"spec": spec})
    code, out, err = run(*api(kubeconfig, *(["--json"] if json_mode else [])), capsys=capsys)
    assert code != 0, out
    assert_contract(code, out, err, json_mode=json_mode)
