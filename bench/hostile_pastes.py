"""Benchmark: what one hostile paste costs, sent to the lab check view as a browser would send it.

Each input runs in a fresh child process so its peak memory can be read from the kernel
(ru_maxrss) and nothing one input leaves behind weighs on the next. The child first checks a small
real paste (so templates, the curriculum and the YAML parser are loaded), notes its peak memory,
then posts the hostile input once and prints the CPU time of that request, how much its peak memory
rose above the warmed-up process, the status code and the size of the page it answered.

Run with `make bench-sandbox` (after the cluster benchmark) or `python bench/hostile_pastes.py`.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
# The lab whose checks and advice read every workload in the paste: the most a paste can make it do.
LAB = "team-quota"


def _deployments(count, *, managed_fields):
    items = []
    for index in range(count):
        meta = {"name": f"app-{index}", "namespace": "team-a", "labels": {"app": f"app-{index}"}}
        if managed_fields:
            meta["managedFields"] = [
                {
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": "apps/v1",
                    "time": "2026-12-01T10:00:00Z",
                    "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"app"}': {}}}}}},
                }
            ]
        items.append({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {
                "replicas": 2, "selector": {"matchLabels": {"app": f"app-{index}"}},
                "template": {
                    "metadata": {"labels": {"app": f"app-{index}"}},
                    "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]},
                },
            },
            "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2},
        })  # fmt: skip
    return items


def _kubectl_list(items):
    import yaml

    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}, sort_keys=False)


def _fill(unit, size=MiB - 64):
    return unit * (size // len(unit))


def _compact_deployments(count):
    """Deployments as short as a hand-written manifest gets, one per document: many objects in little text."""
    return "".join(
        f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{index}, namespace: team-a}}\n"
        f"spec: {{replicas: 1, template: {{spec: {{containers: [{{name: app, image: nginx}}]}}}}}}\n"
        for index in range(count)
    )


def _real_output(limit=MiB - 4096):
    """As many Deployments as fit in 1 MiB of `kubectl get deployments -o yaml`."""
    count = 100
    while len(_kubectl_list(_deployments(count + 100, managed_fields=True)).encode()) < limit:
        count += 100
    return _kubectl_list(_deployments(count, managed_fields=True))


def _rbac_bomb(bindings=1000, rules=20_000):
    """One Role of many rules bound many times: effective permissions once cost bindings x rules."""
    role = {
        "kind": "Role",
        "metadata": {"name": "pod-reader"},
        "rules": [{"verbs": [f"v{index}"]} for index in range(rules)],
    }
    binding = {"kind": "RoleBinding", "roleRef": {"kind": "Role", "name": "pod-reader"},
               "subjects": [{"kind": "ServiceAccount", "name": "reporter"}]}  # fmt: skip
    objects = [role] + [{**binding, "metadata": {"name": f"b{index}"}} for index in range(bindings)]
    return json.dumps({"kind": "List", "items": objects}, separators=(",", ":"))


def _owner_bomb(replica_sets=3000, pods=500, references=25):
    """Many ReplicaSets of one Deployment and Pods with many owner references: once RS x Pods x refs."""
    deployment = {"kind": "Deployment", "metadata": {"name": "api", "uid": "d"}, "spec": {"replicas": 1}}
    owned = [{"kind": "ReplicaSet", "metadata": {"name": f"rs{index}", "uid": f"r{index}",
              "ownerReferences": [{"kind": "Deployment", "name": "api", "uid": "d"}]}} for index in range(replica_sets)]  # fmt: skip
    refs = [{"kind": "ReplicaSet", "name": f"rs{index}", "uid": f"r{index}"} for index in range(references)]
    pod_list = [{"kind": "Pod", "metadata": {"name": f"p{index}", "ownerReferences": refs}} for index in range(pods)]
    return json.dumps({"kind": "List", "items": [deployment, *owned, *pod_list]}, separators=(",", ":"))


def inputs():
    """name → (lab, pasted text); each at most 1 MiB, the most a learner may paste."""
    real = _real_output()
    return {
        "reference paste (the lab's pass fixture)": (
            LAB,
            (ROOT / "tests/sandbox/fixtures" / LAB / "pass.yaml").read_text(),
        ),
        "deep nesting, 56 kB (spec: [[[…]]], 28,000 levels)": (LAB, "spec: " + "[" * 28_000 + "]" * 28_000),
        "deep nesting, 1 MiB of [": (LAB, "spec: " + "[" * (MiB - 16)),
        "deep block nesting, 1 MiB of '- '": (LAB, _fill("- ") + "x"),
        "1 MiB of tiny objects (YAML documents)": (LAB, _fill("---\nkind: ConfigMap\nmetadata: {name: c}\n")),
        "1 MiB of tiny values (a JSON list of 0s)": (LAB, "[" + _fill("0,") + "0]"),
        "5,000 Deployments (one kind, short manifests)": (LAB, _compact_deployments(5000)),
        f"1 MiB of real kubectl output ({real.count('kind: Deployment')} Deployments)": (LAB, real),
        "base-60 number, 1 MiB (1:0:0:…, once 20 s of CPU)": (
            LAB,
            "kind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: 1" + ":0" * (MiB // 2 - 40),
        ),
        "RBAC: a Role of 20,000 rules bound 1,000 times": ("least-privilege", _rbac_bomb()),
        "owners: 3,000 ReplicaSets, 500 Pods of 25 references": ("healthy-app", _owner_bomb()),
    }


CHILD = """
import json, os, sys, time
os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
import django
django.setup()
import logging
logging.disable(logging.CRITICAL)
from django.test import Client
from django.test.utils import override_settings
from bench import portal_api

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


name, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
url = portal_api.lab_check_url(sys.argv[3])
warm = open(sys.argv[4], encoding="utf-8").read()
with override_settings(SANDBOX_RUNS_PER_MINUTE=10**6, SANDBOX_PASTES_PER_MINUTE_PER_ADDRESS=10**6, ALLOWED_HOSTS=["*"]):
    client = Client(HTTP_HX_REQUEST="true")
    for _ in range(3):
        client.post(url, {"mode": "file", "paste": warm})
    # The kernel keeps a process's peak memory (VmHWM) across exec; "5" resets it to the current size.
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = rss("VmRSS")
    started = time.process_time()
    response = client.post(url, {"mode": "file", "paste": text})
    cpu = time.process_time() - started
    after = rss("VmHWM")
report = portal_api.latest_lab_run_report()
stored = len(json.dumps(report)) if report is not None and response.status_code == 200 else 0
print(json.dumps({"status": response.status_code, "cpu_ms": 1000 * cpu, "peak_kib": after - before,
                  "base_kib": before, "page": len(response.content), "stored": stored}))
"""


def _database(workdir):
    """A throwaway SQLite database with the curriculum loaded, shared by the children."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3", "DEBUG": "false",
           "SECRET_KEY": "bench-" + "x" * 50, "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING"}  # fmt: skip
    for command in (["migrate", "--no-input", "--verbosity", "0"], ["load_journeys", "--verbosity", "0"]):
        subprocess.run([sys.executable, str(ROOT / "manage.py"), *command], env=env, check=True, cwd=ROOT)  # noqa: S603 - our own manage.py
    return env


def main():
    with tempfile.TemporaryDirectory() as workdir:
        env = _database(workdir)
        warm = Path(workdir) / "warm.yaml"
        warm.write_text((ROOT / "tests/sandbox/fixtures" / LAB / "pass.yaml").read_text(), encoding="utf-8")
        print(
            f"\nHostile pastes to POST /labs/{LAB}/check/ (htmx; two to other labs, named), one child process each, DEBUG off, SQLite"
        )
        print(f"{'input':58} {'size':>9} {'status':>6} {'CPU':>9} {'peak +':>9} {'page':>9} {'report':>9}")
        baseline = None
        for name, (lab, text) in inputs().items():
            path = Path(workdir) / "paste.txt"
            path.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            done = subprocess.run(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-c", CHILD, name, str(path), lab, str(warm)],
                env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            wall = time.perf_counter() - started
            if done.returncode != 0:
                print(f"{name:58} CRASHED (exit {done.returncode}) after {wall:.1f} s: {done.stderr[-300:]}")
                continue
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            baseline = figures["base_kib"]
            size = len(text.encode("utf-8"))
            print(
                f"{name:58} {size / 1024:7.0f} kB {figures['status']:>6} {figures['cpu_ms']:7.0f} ms "
                f"{figures['peak_kib'] / 1024:6.1f} MB {figures['page'] / 1024:6.1f} kB "
                + (f"{figures['stored'] / 1024:6.1f} kB" if figures["stored"] else "   (none)")
            )
        if baseline:
            print(f"(peak + is the rise of the process's peak memory above {baseline / 1024:.0f} MB after warm-up;")
            print(" report is the JSON stored for a lab run; a refused paste stores none)")


if __name__ == "__main__":
    main()
