"""The chart's `provisioning` values as a clumsy operator gives them: a value that cannot work must stop
`helm template` with a message naming it, and whatever renders must be valid Kubernetes that the portal
starts with."""

import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

CHART = Path(settings.BASE_DIR) / "deploy" / "chart" / "kube-journeys"
ROOT = Path(settings.BASE_DIR)

ON = ["--set", "sandbox.inCluster=true", "--set", "provisioning.enabled=true",
      "--set", "provisioning.learnerServer=https://k8s.example.com:6443",
      "--set", "sandbox.namespaceTemplate=learn-{username}"]  # fmt: skip
EXPIRY = ["--set", "provisioning.expiry.enabled=true"]

pytestmark = pytest.mark.slow


def run_helm(helm, *args):
    command = [helm, "template", "journeys", str(CHART), "--namespace", "kube-journeys", "--kube-version", "1.32.0",
               *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def rendered(helm, *args):
    result = run_helm(helm, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def config_map(documents):
    wanted = ("ConfigMap", "journeys-kube-journeys")
    [found] = [doc for doc in documents if (doc["kind"], doc["metadata"]["name"]) == wanted]
    return found["data"]


def refused(helm, args, names):
    result = run_helm(helm, *args)
    assert result.returncode != 0, "rendered without complaint"
    assert names in result.stderr, result.stderr
    assert "Use --debug" in result.stderr or "Error:" in result.stderr


# --- Refused with a message -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--set", "provisioning.tokenSeconds=abc"], "provisioning.tokenSeconds"),
        (["--set", "provisioning.tokenSeconds=-1"], "provisioning.tokenSeconds"),
        (["--set", "provisioning.tokenSeconds=1e30"], "provisioning.tokenSeconds"),
        (["--set-string", "provisioning.tokenSeconds="], "provisioning.tokenSeconds"),
        ([*EXPIRY, "--set", "provisioning.expiry.days=abc"], "provisioning.expiry.days"),
        ([*EXPIRY, "--set", "provisioning.expiry.days=-1"], "provisioning.expiry.days"),
        ([*EXPIRY, "--set", "provisioning.expiry.days=1e30"], "provisioning.expiry.days"),
        ([*EXPIRY, "--set-string", "provisioning.expiry.schedule=   "], "provisioning.expiry.schedule"),
        (["--set-json", 'provisioning.quota=["pods"]'], "provisioning.quota"),
        (["--set-json", 'provisioning.quota=""'], "provisioning.quota"),
        (["--set-json", "provisioning.limits=null"], "provisioning.limits"),
        (["--set-json", "provisioning.limits=5"], "provisioning.limits"),
        (["--set-json", 'provisioning.podSecurity=["baseline"]'], "provisioning.podSecurity"),
        (["--set", "provisioning.podSecurity=Baseline"], "provisioning.podSecurity"),
        (["--set", "sandbox.namespaceTemplate=learn_{username}"], "sandbox.namespaceTemplate"),
        (["--set", "sandbox.namespaceTemplate=learn-{user}"], "sandbox.namespaceTemplate"),
        (["--set", "sandbox.namespaceTemplate=-learn-{username}"], "sandbox.namespaceTemplate"),
        (["--set", "sandbox.namespaceTemplate=lé-{username}"], "sandbox.namespaceTemplate"),
        (["--set", "provisioning.tokenSeconds=600.9"], "provisioning.tokenSeconds"),
    ],
    ids=["token-word", "token-negative", "token-huge", "token-empty", "days-word", "days-negative", "days-huge",
         "schedule-blank", "quota-list", "quota-string", "limits-null", "limits-number", "pod-security-list",
         "pod-security-case", "prefix-underscore", "template-without-username", "prefix-leading-hyphen",
         "prefix-accent", "token-fraction"],
)  # fmt: skip
def test_a_value_that_cannot_work_is_refused_with_its_name(helm, args, names):
    refused(helm, [*ON, *args], names)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        pytest.param(["--set", "provisioning.tokenSeconds=5000000000"], "provisioning.tokenSeconds",
                     id="token-beyond-2^32"),
        pytest.param([*EXPIRY, "--set", "provisioning.expiry.days=100000"], "provisioning.expiry.days",
                     id="days-beyond-what-the-portal-takes"),
        pytest.param([*EXPIRY, "--set", "provisioning.expiry.schedule=every day"], "provisioning.expiry.schedule",
                     id="schedule-words"),
        pytest.param([*EXPIRY, "--set", "provisioning.expiry.schedule=61 * * * *"], "provisioning.expiry.schedule",
                     id="schedule-out-of-range"),
        pytest.param([*EXPIRY, "--set", "provisioning.expiry.startingDeadlineSeconds=-5"], "startingDeadlineSeconds",
                     id="starting-deadline-negative"),
        pytest.param([*EXPIRY, "--set", "provisioning.expiry.startingDeadlineSeconds=abc"], "startingDeadlineSeconds",
                     id="starting-deadline-word"),
        pytest.param([*EXPIRY, "--set", "provisioning.expiry.activeDeadlineSeconds=0"], "activeDeadlineSeconds",
                     id="active-deadline-zero"),
        pytest.param(["--set-json", 'provisioning.quota={"pods": {"max": "40"}}'], "provisioning.quota",
                     id="quota-nested"),
        pytest.param(["--set-json", 'provisioning.limits={"default": "500m"}'], "provisioning.limits",
                     id="limits-default-not-a-map"),
        pytest.param(["--set", f"sandbox.namespaceTemplate={'a' * 60}-{{username}}"], "sandbox.namespaceTemplate",
                     id="prefix-too-long"),
        pytest.param(["--set", "provisioning.learnerServer=k8s.example.com"], "provisioning.learnerServer",
                     id="learner-server-not-a-url"),
        pytest.param(["--set", "provisioning.kubeconfigSecret=My_Secret", "--set", "sandbox.inCluster=true"],
                     "provisioning.kubeconfigSecret",
                     id="kubeconfig-secret-not-a-name"),
    ],
)  # fmt: skip
def test_a_value_the_cluster_or_the_portal_would_refuse_is_refused_by_the_chart(helm, args, names):
    refused(helm, [*ON, *args], names)


@pytest.mark.parametrize("name", ["provisioning.enabled", "provisioning.rbac.create", "provisioning.expiry.enabled"])
def test_the_string_false_is_refused_not_read_as_on(helm, name):
    # A quoted "false" is true to a template: refused with its name, rather than turning provisioning on.
    result = run_helm(helm, "--set", "sandbox.inCluster=true", "--set-string", f"{name}=false")

    assert result.returncode != 0
    assert f"{name} must be true or false" in result.stderr


# --- Rendered: valid Kubernetes that the portal starts with ------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--set", "provisioning.tokenSeconds=600"],
        ["--set-string", "provisioning.tokenSeconds=28800"],
        [*EXPIRY, "--set", "provisioning.expiry.days=1"],
        [*EXPIRY, "--set", "provisioning.expiry.days=36500"],
        [*EXPIRY, "--set-string", "provisioning.expiry.days=30"],
        [*EXPIRY, "--set", "provisioning.expiry.schedule=@daily"],
        ["--set-json", 'provisioning.quota={"pods": 40, "requests.cpu": "500m", "count/jobs.batch": "10"}'],
        ["--set-json", 'provisioning.limits={"default": {"cpu": "1"}, "max": {"memory": "1Gi"}}'],
        ["--set", "sandbox.namespaceTemplate=l-{username}"],
        ["--set", "sandbox.namespaceTemplate=learn{username}"],
        ["--set", "provisioning.podSecurity=privileged"],
        ["--set", "provisioning.context=ctx", "--set", "provisioning.kubeconfigSecret=prov"],
    ],
    ids=["token-minimum", "token-string", "days-one", "days-most", "days-string",
         "schedule-macro", "quota-mixed", "limits-maps", "short-prefix", "prefix-without-hyphen", "privileged",
         "through-kubeconfig"],
)  # fmt: skip
def test_accepted_values_render_valid_manifests_the_portal_starts_with(helm, args, tmp_path):
    documents = rendered(helm, *ON, *args)

    for document in documents:
        kubernetes_validate.validate(document, "1.32.0", strict=True)
    data = config_map(documents)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SANDBOX_")}
    environment |= {key: value for key, value in data.items() if key.startswith("SANDBOX_")}
    environment["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
