#!/usr/bin/env bash
# Checks the Helm chart without a cluster: lint, render every combination in ci-values/, validate
# each rendering against the Kubernetes 1.32 schemas (strict: unknown fields are errors), and run
# the portal's own production advisories over it, which must have nothing to say: the chart
# teaches by example. Also checks that values which cannot work are refused with a message.
#
# Usage: deploy/check-chart.sh    (from anywhere; exits non-zero on the first failure)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="$ROOT/deploy/chart/kube-journeys"
HELM="$ROOT/.tools/bin/helm"
PYTHON="$ROOT/.venv/bin/python"
VALIDATE="$ROOT/.venv/bin/kubernetes-validate"
KUBE_VERSION="1.32.0"
NAMESPACE="kube-journeys"
RELEASE="kj"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "FAILED: $*" >&2
  exit 1
}

step "Tools"
bash "$ROOT/deploy/get-helm.sh"
[ -x "$PYTHON" ] || fail "no virtualenv at .venv; run 'make install-dev' first"
if [ ! -x "$VALIDATE" ]; then
  # The pin lives in requirements-dev.txt so that this script and 'make install-dev' agree.
  PIN="$(grep -E '^kubernetes-validate==' "$ROOT/requirements-dev.txt")" \
    || fail "requirements-dev.txt does not pin kubernetes-validate"
  echo "Installing $PIN into .venv"
  "$ROOT/.venv/bin/pip" install --quiet --disable-pip-version-check "$PIN"
fi
echo "kubernetes-validate $("$VALIDATE" --version)"

shopt -s nullglob
VALUES_FILES=("$CHART"/ci-values/*.yaml)
[ "${#VALUES_FILES[@]}" -gt 0 ] || fail "no values files in $CHART/ci-values"

render() { # render NAME [helm template flags...]
  local name="$1"
  shift
  "$HELM" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" --kube-version "$KUBE_VERSION" "$@" \
    >"$WORK/$name.yaml"
}

step "helm lint --strict"
for values in "${VALUES_FILES[@]}"; do
  "$HELM" lint --strict --quiet --kube-version "$KUBE_VERSION" --namespace "$NAMESPACE" -f "$values" "$CHART" \
    || fail "helm lint with $(basename "$values")"
  echo "ok  lint with $(basename "$values")"
done

step "Render and validate against Kubernetes $KUBE_VERSION (strict)"
for values in "${VALUES_FILES[@]}"; do
  name="$(basename "$values" .yaml)"
  render "$name" -f "$values" || fail "helm template with $name.yaml"
  # --quiet prints only problems; a warning (e.g. a kind without a schema) counts as one too.
  if ! "$VALIDATE" --kubernetes-version "$KUBE_VERSION" --strict --quiet "$WORK/$name.yaml" >"$WORK/$name.log" 2>&1 \
    || grep -qE '^(WARN|ERROR)' "$WORK/$name.log"; then
    cat "$WORK/$name.log" >&2
    fail "kubernetes-validate on the rendering of $name.yaml"
  fi
  echo "ok  $name: $(grep -c '^kind:' "$WORK/$name.yaml") objects valid"
done

step "The portal's advisories on every rendering (expected: none)"
(
  cd "$ROOT"
  DJANGO_SETTINGS_MODULE=portal.settings "$PYTHON" - "$ROOT/deploy/rbac" "$WORK"/*.yaml <<'PY'
import sys
from pathlib import Path

import django
import yaml

django.setup()

from journeys.sandbox.checks.advisories import advisories_for  # noqa: E402
from journeys.sandbox.sources import FileSource  # noqa: E402

# Each ClusterRole of the chart has the rules of one standalone manifest, found by its name's end.
STANDALONE = {"-sandbox-reader": "sandbox-reader.yaml", "-sandbox-learner": "sandbox-learner.yaml",
              "-sandbox-provisioner": "sandbox-provisioner.yaml"}


def cluster_roles(documents):
    return {doc["metadata"]["name"]: doc["rules"] for doc in documents if doc and doc.get("kind") == "ClusterRole"}


def without_bound_role(rules):
    """The provisioner may bind one ClusterRole, named per release in the chart: compare all but that name."""
    return [{**rule, "resourceNames": ["<learner>"]} if rule.get("verbs") == ["bind"] else rule for rule in rules]


rbac = Path(sys.argv[1])
expected = {
    end: without_bound_role(next(iter(cluster_roles(yaml.safe_load_all((rbac / name).read_text())).values())))
    for end, name in STANDALONE.items()
}
failed = False
for path in map(Path, sys.argv[2:]):
    text = path.read_text()
    snapshot = FileSource(text=text).snapshot(())
    workloads = sum(len(snapshot.of_kind(kind)) for kind in ("Deployment", "StatefulSet", "Job", "CronJob"))
    advice = advisories_for(snapshot, "all")
    for item in advice:
        print(f"  {path.stem}: [{item.id}] {item.message}")
    if workloads == 0:
        print(f"  {path.stem}: no workloads found in namespace {snapshot.namespace!r}; nothing was checked")
    for name, rules in cluster_roles(yaml.safe_load_all(text)).items():
        ends = [end for end in STANDALONE if name.endswith(end)]
        if not ends or without_bound_role(rules) != expected[ends[0]]:
            print(f"  {path.stem}: the ClusterRole {name}'s rules differ from deploy/rbac/{STANDALONE.get(ends[0] if ends else '', '?')}")
            failed = True
    failed = failed or bool(advice) or workloads == 0
    if not advice and workloads:
        print(f"ok  {path.stem}: {workloads} workloads, no advisories")
sys.exit(1 if failed else 0)
PY
) || fail "advisories (or RBAC rules) on the rendered chart"

step "The secret key: generated without secretKey, given with it, none rendered with existingSecret"
secret_key() { # secret_key FILE: the SECRET_KEY of the rendered web Secret, or "none"
  "$PYTHON" - "$1" <<'PY'
import base64, sys, yaml
keys = [
    base64.b64decode(doc["data"]["SECRET_KEY"]).decode()
    for doc in yaml.safe_load_all(open(sys.argv[1]))
    if doc and doc.get("kind") == "Secret" and "SECRET_KEY" in doc.get("data", {})
]
print(keys[0] if keys else "none")
PY
}
render generated-1 && render generated-2
first="$(secret_key "$WORK/generated-1.yaml")"
[ "${#first}" -ge 50 ] || fail "without secretKey the rendered SECRET_KEY is '$first', expected a generated key"
[ "$first" != "$(secret_key "$WORK/generated-2.yaml")" ] || fail "two renderings generated the same SECRET_KEY"
echo "ok  generated a ${#first}-character key (a new one per rendering without a cluster)"
render given --set secretKey=given-key-for-the-check-0123456789
[ "$(secret_key "$WORK/given.yaml")" = "given-key-for-the-check-0123456789" ] || fail "secretKey was not used"
echo "ok  secretKey is used as given"
render existing --set existingSecret=mine
[ "$(secret_key "$WORK/existing.yaml")" = "none" ] || fail "existingSecret still rendered a SECRET_KEY"
grep -q "name: mine" "$WORK/existing.yaml" || fail "existingSecret is not referenced"
echo "ok  existingSecret: no Secret rendered, 'mine' referenced"

step "Values that cannot work are refused with a message"
DEFAULTS="$CHART/ci-values/defaults.yaml"
expect_refusal() { # expect_refusal DESCRIPTION EXPECTED-MESSAGE [helm template flags...]
  local description="$1" expected="$2"
  shift 2
  if render refused "$@" 2>"$WORK/refused.log"; then
    fail "$description: rendered, expected a refusal"
  fi
  grep -qF -- "$expected" "$WORK/refused.log" \
    || { cat "$WORK/refused.log" >&2; fail "$description: refused without saying '$expected'"; }
  echo "ok  $description"
}
expect_refusal "image tag latest" "not \"latest\"" -f "$DEFAULTS" --set image.tag=latest
expect_refusal "bundled and external database" "Set postgresql.enabled=false" \
  -f "$DEFAULTS" --set externalDatabase.url=postgres://u:p@db:5432/kj
expect_refusal "no database at all" "No database" -f "$DEFAULTS" --set postgresql.enabled=false
expect_refusal "untagged postgres image" "postgresql.image.tag must be a fixed version" \
  -f "$DEFAULTS" --set postgresql.image.tag=latest
expect_refusal "in-cluster and kubeconfig" "exclude each other" \
  -f "$DEFAULTS" --set sandbox.inCluster=true --set sandbox.kubeconfigSecret=kc

PROVISIONING=(-f "$DEFAULTS" --set sandbox.inCluster=true --set provisioning.enabled=true
  --set provisioning.learnerServer=https://k8s.example.com:6443)
expect_refusal "provisioning without a namespace template" "needs sandbox.namespaceTemplate with {username}" \
  "${PROVISIONING[@]}"
expect_refusal "provisioning with a template lacking a prefix" "must start with a fixed prefix" \
  "${PROVISIONING[@]}" --set-json 'sandbox.namespaceTemplate="{username}-lab"'
expect_refusal "an unknown pod security level" "provisioning.podSecurity must be privileged, baseline or restricted" \
  "${PROVISIONING[@]}" --set "sandbox.namespaceTemplate=learn-{username}" --set provisioning.podSecurity=strict
expect_refusal "an empty expiry schedule" "provisioning.expiry.schedule is empty" \
  "${PROVISIONING[@]}" --set "sandbox.namespaceTemplate=learn-{username}" --set provisioning.expiry.enabled=true \
  --set provisioning.expiry.schedule=
expect_refusal "provisioning in the cluster without a learner server" "provisioning.learnerServer is required" \
  -f "$DEFAULTS" --set sandbox.inCluster=true --set provisioning.enabled=true \
  --set "sandbox.namespaceTemplate=learn-{username}"

step "Chart checks passed (helm $("$HELM" version --template '{{ .Version }}'), ${#VALUES_FILES[@]} combinations)"
