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
# The chart's own defaults set no resources, which a namespace with a quota (the team-quota lab)
# may refuse, and an nginx tag taken from the chart's appVersion.
cat > lab-values.yaml <<'EOF'
image:
  tag: "1.27"
resources:
  requests:
    cpu: 50m
    memory: 64Mi
  limits:
    cpu: 200m
    memory: 128Mi
EOF
helm install demo ./demo -n "$NAMESPACE" -f lab-values.yaml
helm list -n "$NAMESPACE"
# helm install returns once the objects exist; this waits until the Pod really runs.
kubectl -n "$NAMESPACE" rollout status deployment/demo --timeout=120s
