#!/bin/sh
# The release must be called demo and live in the learner's namespace: the lab finds it by the
# meta.helm.sh/release-name and release-namespace annotations Helm puts on every object.
set -eu
: "${NAMESPACE:?set NAMESPACE to your namespace, e.g. NAMESPACE=team-a}"

# Scaffold the chart in a scratch directory so running this leaves no chart behind.
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
cd "$workdir"

helm create demo
helm install demo ./demo -n "$NAMESPACE"
# The check wants the release's Deployment available, not just created.
kubectl -n "$NAMESPACE" rollout status deployment/demo --timeout=120s
