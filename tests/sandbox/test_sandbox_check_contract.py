"""`manage.py sandbox_check` as a separate process: what scripts piping its output rely on.

A process of its own reads the settings with DEBUG on or off (the logging set-up differs) and
turns a crash of the YAML reader into a failed test instead of a dead test run.
"""

import json
import os
import subprocess
import sys

import pytest
import yaml
from django.conf import settings

from tests.sandbox.test_sandbox_check_command import CRONJOB

pytest_plugins = ["tests.k8s_emulator"]

pytestmark = pytest.mark.slow

DEVELOPMENT = {"DEBUG": "true"}
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "localhost",
    "DATABASE_URL": "sqlite:///:memory:",
}
MODES = {"debug-on": DEVELOPMENT, "debug-off": PRODUCTION}
# Whatever the developer's shell sets must not decide how the command logs or which cluster it reads.
UNSET = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "LOG_LEVEL", "LOG_FORMAT", "KUBECONFIG", "REDIS_URL"}

# Runs the command the way manage.py does, after making a check print, warn and log on its way.
NOISY = """
import logging, sys, warnings
import django
django.setup()
from django.core.management import execute_from_command_line
from journeys.management.commands import sandbox_check
real = sandbox_check.evaluate
def noisy(*args, **kwargs):
    print("a stray print")
    warnings.warn("a stray warning", UserWarning, stacklevel=1)
    logging.getLogger("journeys.sandbox").warning("a stray log line")
    return real(*args, **kwargs)
sandbox_check.evaluate = noisy
execute_from_command_line(["manage.py", "sandbox_check", *sys.argv[1:]])
"""


def manage(*args, env=DEVELOPMENT, stdin=None, script=None):
    clean = {key: value for key, value in os.environ.items() if key not in UNSET and not key.startswith("SANDBOX_")}
    command = [sys.executable, "-c", script] if script else [sys.executable, "manage.py", "sandbox_check"]
    return subprocess.run(
        [*command, *args],
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        cwd=settings.BASE_DIR,
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def one_line_reason(result):
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sandbox_check: "), stderr
    return lines[0]


@pytest.mark.parametrize("env", MODES.values(), ids=MODES.keys())
def test_json_is_all_of_stdout_in_api_mode(kube_emulator, kubeconfig, env):
    kube_emulator.add_namespace("team-a")
    kube_emulator.add(CRONJOB)
    args = ["--lab", "nightly-backup", "--namespace", "team-a", "--kubeconfig", str(kubeconfig), "--json"]
    result = manage(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "api"
    # The portal logs each read; here the line must be on stderr, not in the document.
    assert b"sandbox snapshot of team-a" in result.stderr


def test_json_is_all_of_stdout_with_debug_logging(kube_emulator, kubeconfig):
    kube_emulator.add_namespace("team-a")
    kube_emulator.add(CRONJOB | {"spec": CRONJOB["spec"] | {"schedule": "0 3 * * *"}})
    args = ["--lab", "nightly-backup", "--namespace", "team-a", "--kubeconfig", str(kubeconfig), "--json"]
    result = manage(*args, env=PRODUCTION | {"LOG_LEVEL": "DEBUG"})
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["passed"] is False
    assert b"sandbox snapshot of team-a" in result.stderr


@pytest.mark.parametrize("env", MODES.values(), ids=MODES.keys())
def test_stray_output_during_a_check_goes_to_stderr(tmp_path, env):
    dump = tmp_path / "dump.yaml"
    dump.write_text(yaml.safe_dump(CRONJOB))
    result = manage("--lab", "nightly-backup", "--from-file", str(dump), "--json", env=env, script=NOISY)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"] is True
    for stray in (b"a stray print", b"a stray warning", b"a stray log line"):
        assert stray in result.stderr


@pytest.mark.parametrize("env", MODES.values(), ids=MODES.keys())
def test_errors_are_one_line_on_stderr_and_nothing_on_stdout(tmp_path, env):
    dump = tmp_path / "dump.yaml"
    dump.write_text("kind: CronJob\nmetadata: {name: [a]}\n")
    result = manage("--lab", "nightly-backup", "--from-file", str(dump), "--json", env=env)
    assert result.returncode == 2 and result.stdout == b""
    one_line_reason(result)


def test_dev_zero_is_refused_at_the_size_limit():
    result = manage("--lab", "nightly-backup", "--from-file", "/dev/zero")
    assert result.returncode == 2 and result.stdout == b""
    assert "larger than 1 MiB" in one_line_reason(result)


def test_kubectl_output_can_be_piped_in():
    result = manage("--lab", "nightly-backup", "--from-file", "-", "--json", stdin=yaml.safe_dump(CRONJOB).encode())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passed"] is True


DEEP = {
    "unclosed-flow-sequences": "spec: " + "[" * 28000,
    "closed-flow-sequences": "spec: " + "[" * 28000 + "]" * 28000,
    "block-sequences": "- " * 200000 + "x",
}


@pytest.mark.parametrize("content", DEEP.values(), ids=DEEP.keys())
def test_deeply_nested_input_is_refused_without_crashing(tmp_path, content):
    dump = tmp_path / "deep.yaml"
    dump.write_text(content)
    result = manage("--lab", "nightly-backup", "--from-file", str(dump))
    # A negative code is the signal that killed the process (a C stack overflow is SIGSEGV).
    assert result.returncode == 2, (result.returncode, result.stderr[-500:])
    assert result.stdout == b""
    one_line_reason(result)
