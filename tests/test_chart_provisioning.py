"""The chart's `provisioning` values: with them on, the learner and provisioner RBAC and the admission
policy are those of the standalone manifests in deploy/rbac (the only place their rules are decided),
valid for Kubernetes 1.32, wired into the portal's settings; with them off, nothing of it is rendered;
and values that cannot work are refused with a message."""

import json
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

from journeys.sandbox.provisioning import MANAGED_BY, MANAGED_BY_LABEL, ROLE_BINDING, SERVICE_ACCOUNT

CHART = Path(settings.BASE_DIR) / "deploy" / "chart" / "kube-journeys"
RBAC = Path(settings.BASE_DIR) / "deploy" / "rbac"
NAMESPACE = "kube-journeys"
RELEASE = "journeys"
PROVISIONER = "journeys-kube-journeys-provisioner"  # the chart's provisioner ServiceAccount for this release

IN_CLUSTER = CHART / "ci-values" / "provisioning.yaml"
THROUGH_KUBECONFIG = CHART / "ci-values" / "provisioning-kubeconfig.yaml"


def run_helm(helm, *args):
    command = [helm, "template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version", "1.32.0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def render(helm, *args):
    result = run_helm(helm, *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(documents, kind):
    return [doc for doc in documents if doc["kind"] == kind]


def one(documents, kind, name_end=""):
    [found] = [doc for doc in of_kind(documents, kind) if doc["metadata"]["name"].endswith(name_end)]
    return found


def standalone(name, kind):
    [found] = [doc for doc in yaml.safe_load_all((RBAC / name).read_text()) if doc and doc["kind"] == kind]
    return found


def config(documents):
    return one(documents, "ConfigMap")["data"]


@pytest.fixture(scope="module")
def in_cluster(helm):
    return render(helm, "-f", str(IN_CLUSTER))


# --- Valid, and the same rules as the standalone manifests ------------------------------------------


def test_every_rendered_object_is_valid_for_kubernetes_1_32(in_cluster):
    kinds = {doc["kind"] for doc in in_cluster}
    assert {
        "ClusterRole",
        "ClusterRoleBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    } <= kinds
    for document in in_cluster:
        kubernetes_validate.validate(document, "1.32.0", strict=True)


def test_learner_cluster_role_has_the_rules_of_the_standalone_manifest(in_cluster):
    chart_role = one(in_cluster, "ClusterRole", "-sandbox-learner")
    assert chart_role["rules"] == standalone("sandbox-learner.yaml", "ClusterRole")["rules"]
    # The portal binds the chart's role, not the standalone one's name.
    assert config(in_cluster)["SANDBOX_LEARNER_CLUSTER_ROLE"] == chart_role["metadata"]["name"]


def test_provisioner_cluster_role_has_the_standalone_rules_and_binds_only_the_chart_learner_role(in_cluster):
    chart_rules = one(in_cluster, "ClusterRole", "-sandbox-provisioner")["rules"]
    manifest_rules = standalone("sandbox-provisioner.yaml", "ClusterRole")["rules"]
    learner_role = one(in_cluster, "ClusterRole", "-sandbox-learner")["metadata"]["name"]
    [bind] = [rule for rule in chart_rules if "bind" in rule["verbs"]]
    assert bind == {
        "apiGroups": ["rbac.authorization.k8s.io"],
        "resources": ["clusterroles"],
        "resourceNames": [learner_role],
        "verbs": ["bind"],
    }
    renamed = [{**rule, "resourceNames": ["kube-journeys-learner"]} if rule is bind else rule for rule in chart_rules]
    assert renamed == manifest_rules


def test_provisioner_has_its_own_service_account_bound_to_its_role(in_cluster):
    account = one(in_cluster, "ServiceAccount", "-provisioner")
    assert account["metadata"]["name"] == PROVISIONER
    assert account["automountServiceAccountToken"] is False  # only the Pods that need it mount a token
    binding = one(in_cluster, "ClusterRoleBinding", "-sandbox-provisioner")
    assert binding["roleRef"]["name"] == one(in_cluster, "ClusterRole", "-sandbox-provisioner")["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": PROVISIONER, "namespace": NAMESPACE}]
    # Nothing else holds the provisioner's role.
    holders = [doc for doc in in_cluster if doc.get("roleRef", {}).get("name") == binding["roleRef"]["name"]]
    assert holders == [binding]


# --- The admission policy -------------------------------------------------------------------------


def policy_and_binding(documents, name_end="-namespaces"):
    return (
        one(documents, "ValidatingAdmissionPolicy", name_end),
        one(documents, "ValidatingAdmissionPolicyBinding", name_end),
    )


def test_admission_policy_uses_the_template_prefix_the_portal_label_and_the_provisioner(helm):
    documents = render(helm, "-f", str(IN_CLUSTER), "--set", "sandbox.namespaceTemplate=lab-{username}-k8s")
    policy, binding = policy_and_binding(documents)
    variables = {variable["name"]: variable["expression"] for variable in policy["spec"]["variables"]}
    assert variables == {"prefix": '"lab-"', "label": '"app.kubernetes.io/managed-by"'}
    [condition] = policy["spec"]["matchConditions"]
    assert condition["expression"] == f'request.userInfo.username == "system:serviceaccount:{NAMESPACE}:{PROVISIONER}"'
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    assert "named lab-..." in policy["spec"]["validations"][0]["message"]


def test_admission_policy_is_the_standalone_one_but_for_names(in_cluster):
    chart_policy, _ = policy_and_binding(in_cluster)
    manifest = standalone("sandbox-provisioner-policy.yaml", "ValidatingAdmissionPolicy")
    for key in ("failurePolicy", "matchConstraints", "validations", "variables"):
        assert chart_policy["spec"][key] == manifest["spec"][key], key  # the ci values use the manifest's prefix
    # The label the policy demands is the one the portal puts on its namespaces.
    assert '== "kube-journeys"' in chart_policy["spec"]["validations"][0]["expression"]


def test_learner_guard_policy_is_the_standalone_one_and_denies(in_cluster):
    chart_policy, binding = policy_and_binding(in_cluster, "-sandbox-guards")
    manifest = standalone("sandbox-learner-policy.yaml", "ValidatingAdmissionPolicy")
    assert chart_policy["spec"] == manifest["spec"]
    assert binding["spec"] == {"policyName": chart_policy["metadata"]["name"], "validationActions": ["Deny"]}
    # It guards exactly the namespaces the portal labels and the names the portal gives its objects.
    selector = chart_policy["spec"]["matchConstraints"]["namespaceSelector"]["matchLabels"]
    assert selector == {MANAGED_BY_LABEL: MANAGED_BY}
    expressions = " ".join(validation["expression"] for validation in chart_policy["spec"]["validations"])
    assert f'"{SERVICE_ACCOUNT}"' in expressions and f'"{ROLE_BINDING}"' in expressions


# --- How the portal is wired -----------------------------------------------------------------------


def test_portal_settings_for_provisioning_in_the_cluster(in_cluster):
    data = config(in_cluster)
    assert data["SANDBOX_PROVISIONING"] == "true"
    assert data["SANDBOX_PROVISIONER_IN_CLUSTER"] == "true"
    assert data["SANDBOX_LEARNER_SERVER"] == "https://k8s.example.com:6443"
    assert data["SANDBOX_TOKEN_SECONDS"] == "14400"
    assert data["SANDBOX_POD_SECURITY"] == "restricted"
    assert json.loads(data["SANDBOX_QUOTA"]) == {"pods": "20", "requests.cpu": "2"}
    assert "SANDBOX_LIMITS" not in data  # empty in the values: the portal's own defaults stay
    assert data["SANDBOX_EXPIRE_DAYS"] == "14"
    # Every sandbox setting the chart writes is one the portal reads.
    source = (Path(settings.BASE_DIR) / "portal" / "settings.py").read_text()
    for name in data:
        if name.startswith("SANDBOX_"):
            assert re.search(rf'"{name}"', source), name


def test_web_pods_run_as_the_provisioner_in_the_cluster_and_it_reads_for_the_checks(in_cluster):
    spec = one(in_cluster, "Deployment")["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == PROVISIONER
    assert spec["automountServiceAccountToken"] is True
    # The chart's other ServiceAccount is then used by no Pod, and hands out no token by default.
    assert one(in_cluster, "ServiceAccount", "journeys-kube-journeys")["automountServiceAccountToken"] is False
    reader_subjects = [
        subject
        for doc in in_cluster
        if doc["kind"] in ("ClusterRoleBinding", "RoleBinding") and doc["metadata"]["name"].endswith("-sandbox-reader")
        for subject in doc["subjects"]
    ]
    assert reader_subjects and all(subject["name"] == PROVISIONER for subject in reader_subjects)


def test_through_a_kubeconfig_the_web_pods_keep_their_own_identity_and_mount_it(helm):
    documents = render(helm, "-f", str(THROUGH_KUBECONFIG))
    assert not of_kind(documents, "ValidatingAdmissionPolicy") and not of_kind(documents, "ClusterRole")
    data = config(documents)
    assert data["SANDBOX_PROVISIONER_IN_CLUSTER"] == "false"
    assert data["SANDBOX_PROVISIONER_CONTEXT"] == "provisioner"
    assert data["SANDBOX_LEARNER_CLUSTER_ROLE"] == "kube-journeys-learner"  # the standalone manifest's role
    for pod in (
        one(documents, "Deployment")["spec"]["template"]["spec"],
        one(documents, "CronJob", "-expire-sandboxes")["spec"]["jobTemplate"]["spec"]["template"]["spec"],
    ):
        assert pod.get("serviceAccountName") != PROVISIONER
        assert pod["automountServiceAccountToken"] is False
        [container] = pod["containers"]
        assert {"name": "SANDBOX_PROVISIONER_KUBECONFIG", "value": "/etc/kube-journeys/provisioner/kubeconfig"} in (
            container["env"]
        )
        assert any(mount["mountPath"] == "/etc/kube-journeys/provisioner" for mount in container["volumeMounts"])
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert volumes["provisioner-kubeconfig"]["secret"]["secretName"] == "kube-journeys-provisioner-kubeconfig"


# --- The expiry CronJob ------------------------------------------------------------------------------


def test_expiry_cronjob_runs_the_command_as_the_provisioner_like_the_other_portal_jobs(in_cluster):
    cronjob = one(in_cluster, "CronJob", "-expire-sandboxes")
    assert cronjob["spec"]["schedule"] == "43 4 * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == PROVISIONER and pod["automountServiceAccountToken"] is True
    [container] = pod["containers"]
    assert container["args"] == ["python", "manage.py", "expire_sandboxes"]
    web = one(in_cluster, "Deployment")["spec"]["template"]["spec"]
    [portal] = web["containers"]
    assert container["image"] == portal["image"]
    assert container["envFrom"] == portal["envFrom"]  # the same ConfigMap (SANDBOX_EXPIRE_DAYS) and Secret
    assert pod["securityContext"] == web["securityContext"]
    assert container["securityContext"] == portal["securityContext"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_no_expiry_cronjob_unless_enabled_and_then_nothing_expires(helm):
    documents = render(helm, "-f", str(IN_CLUSTER), "--set", "provisioning.expiry.enabled=false")
    assert [doc["metadata"]["name"] for doc in of_kind(documents, "CronJob")] == [
        "journeys-kube-journeys-clearsessions"
    ]
    assert config(documents)["SANDBOX_EXPIRE_DAYS"] == "0"


# --- Off by default -----------------------------------------------------------------------------------


def test_provisioning_off_renders_nothing_new(helm):
    base = CHART / "ci-values" / "in-cluster-sandbox.yaml"
    plain = render(helm, "-f", str(base))
    # Every provisioning value set, but not turned on.
    tuned = render(helm, "-f", str(IN_CLUSTER), "--set", "provisioning.enabled=false",
                   "--set", "provisioning.expiry.enabled=false")  # fmt: skip
    names = lambda documents: sorted((doc["kind"], doc["metadata"]["name"]) for doc in documents)  # noqa: E731
    assert names(tuned) == names(plain)
    assert not any(name.startswith("SANDBOX_PROVISION") for name in config(tuned))
    assert one(tuned, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "journeys-kube-journeys"


# --- Values that cannot work ----------------------------------------------------------------------------

ON = ["--set", "sandbox.inCluster=true", "--set", "provisioning.enabled=true",
      "--set", "provisioning.learnerServer=https://k8s.example.com:6443"]  # fmt: skip
TEMPLATE = ["--set", "sandbox.namespaceTemplate=learn-{username}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (ON, "provisioning.enabled needs sandbox.namespaceTemplate with {username}"),
        ([*ON, "--set", "sandbox.namespaceTemplate=learners"], "needs sandbox.namespaceTemplate with {username}"),
        ([*ON, "--set-json", 'sandbox.namespaceTemplate="{username}-lab"'], "must start with a fixed prefix"),
        ([*ON, "--set", "sandbox.namespaceTemplate=Learn--{username}"], "must start with a fixed prefix"),
        ([*ON, *TEMPLATE, "--set", "provisioning.podSecurity=strict"], "must be privileged, baseline or restricted"),
        ([*ON, *TEMPLATE, "--set", "provisioning.tokenSeconds=60"], "tokenSeconds must be from 600 to 4294967296"),
        ([*ON, *TEMPLATE, "--set", "provisioning.expiry.enabled=true", "--set", "provisioning.expiry.schedule="],
         "provisioning.expiry.schedule is empty"),
        ([*ON, *TEMPLATE, "--set", "provisioning.expiry.enabled=true", "--set", "provisioning.expiry.days=0"],
         "provisioning.expiry.days must be a whole number from 1 to 36500"),
        ([*ON, *TEMPLATE, "--set", "provisioning.learnerServer="], "provisioning.learnerServer is required"),
        ([*ON, *TEMPLATE, "--set", "sandbox.inCluster=false"], "set sandbox.inCluster=true"),
        ([*ON, *TEMPLATE, "--set", "provisioning.rbac.create=false"], "keep provisioning.rbac.create=true"),
        (["--set", "provisioning.expiry.enabled=true"], "provisioning.expiry.enabled needs provisioning.enabled"),
        ([*ON, *TEMPLATE, "--set", "provisioning.quota=pods"], "provisioning.quota must be a map"),
    ],
    ids=[
        "no-template", "template-without-username", "no-prefix", "prefix-the-portal-would-rewrite",
        "pod-security", "short-token", "empty-schedule", "no-expiry-days", "no-learner-server",
        "in-cluster-without-reading", "in-cluster-without-rbac", "expiry-without-provisioning",
        "quota-not-a-map",
    ],
)  # fmt: skip
def test_values_that_cannot_work_are_refused_with_a_message(helm, args, message):
    result = run_helm(helm, *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
