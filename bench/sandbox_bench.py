"""Benchmark: one lab evaluated over a namespace of 500 Pods and 100 other objects, through the API emulation.

Prints the API calls of one run, the wall time of a whole run (listing + checks), and the time of
the check evaluation alone; then what hostile pastes cost (bench/hostile_pastes.py). Run with
`make bench-sandbox` (`python -m bench.sandbox_bench`).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import logging

import django

django.setup()
logging.getLogger("journeys").setLevel(logging.WARNING)

from bench import portal_api  # noqa: E402
from tests.k8s_emulator import KubeEmulator  # noqa: E402

_labs, _sources = portal_api.sandbox()
LABS, evaluate, kinds_for = _labs.LABS, _labs.evaluate, _labs.kinds_for
ClusterSettings, ClusterSource = _sources.ClusterSettings, _sources.ClusterSource

NAMESPACE = "bench"
ROUNDS = 20


def pod(index):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"api-{index:04d}",
            "namespace": NAMESPACE,
            "labels": {"app": "api"},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "api-7d9f", "uid": "rs-uid", "controller": True}
            ],
        },
        "spec": {
            "containers": [
                {
                    "name": "api",
                    "image": "registry.k8s.io/e2e-test-images/agnhost:2.39",
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
                }
            ]
        },
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }


def other_objects():
    objects = []
    for index in range(50):
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"svc-{index}", "namespace": NAMESPACE},
                "spec": {"selector": {"app": f"x{index}"}, "ports": [{"port": 80}]},
            }
        )
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{index}", "namespace": NAMESPACE},
                "data": {"k": "v"},
            }
        )
    template = pod(0)
    objects[-1] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": NAMESPACE, "uid": "deploy-uid"},
        "spec": {
            "replicas": 500,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}}, "spec": template["spec"]},
        },
        "status": {"replicas": 500, "readyReplicas": 500, "availableReplicas": 500},
    }
    objects[-2] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "api-7d9f",
            "namespace": NAMESPACE,
            "uid": "rs-uid",
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "uid": "deploy-uid", "controller": True}
            ],
        },
        "spec": {
            "replicas": 500,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"metadata": {"labels": {"app": "api"}}, "spec": template["spec"]},
        },
    }
    return objects


def main():
    lab = LABS["healthy-app"]
    with KubeEmulator() as emulator, tempfile.TemporaryDirectory() as workdir:
        emulator.add_namespace(NAMESPACE)
        emulator.add_many([pod(index) for index in range(500)])
        emulator.add_many(other_objects())
        kubeconfig = emulator.write_kubeconfig(Path(workdir) / "kubeconfig")
        settings = ClusterSettings(kubeconfig=str(kubeconfig), context="sandbox")

        walls, checks, calls = [], [], []
        for _ in range(ROUNDS):
            source = ClusterSource(settings)
            started = time.perf_counter()
            snapshot = source.snapshot(kinds_for(lab), NAMESPACE)
            evaluated = time.perf_counter()
            report = evaluate(lab, snapshot, source="api")
            finished = time.perf_counter()
            walls.append(finished - started)
            checks.append(finished - evaluated)
            calls.append(source.api_calls)
        assert report.passed, [check for check in report.checks if check.status != "pass"]

    print(
        f"namespace: 500 Pods and {len(other_objects())} other objects; lab {lab.slug} reads {snapshot.count()} of them"
    )
    print(f"API calls per run: {calls[0]} (the namespace, then one list each: {', '.join(kinds_for(lab))})")
    print(
        f"wall time per run ({ROUNDS} runs): first {1000 * walls[0]:.1f} ms (new connections), "
        f"median {1000 * statistics.median(walls):.1f} ms, max {1000 * max(walls[1:]):.1f} ms after the first"
    )
    print(f"check evaluation alone: median {1000 * statistics.median(checks):.2f} ms, max {1000 * max(checks):.2f} ms")


if __name__ == "__main__":
    main()
    from bench import hostile_pastes

    hostile_pastes.main()
