"""Run one lab's checks from the command line.

Why: operators verify that the portal can read a namespace (RBAC, network, credentials) before
learners depend on it, and authors test a lab against a real cluster or a saved `kubectl get -o yaml`
dump. Exit codes are a contract: 0 every required check passes, 1 some fail, 2 could not evaluate.
"""

import json as json_module
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.report import ERROR, PASS
from journeys.sandbox.sources import ClusterSettings, ClusterSource, FileSource, SourceError

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
MARKS = {"pass": "✓", "fail": "✗", "error": "?", "skip": "–"}


class Command(BaseCommand):
    help = "Check a lab against a namespace (through the Kubernetes API) or against a saved kubectl dump."

    def add_arguments(self, parser):
        parser.add_argument("--lab", required=True, choices=sorted(LABS), help="The lab to check.")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--namespace", help="Read this namespace through the Kubernetes API.")
        where.add_argument(
            "--from-file", help="Read objects from this file (kubectl get ... -o yaml or -o json, or manifests)."
        )
        parser.add_argument(
            "--kubeconfig", help="kubeconfig file (default: SANDBOX_KUBECONFIG, then $KUBECONFIG, then ~/.kube/config)."
        )
        parser.add_argument(
            "--context", help="kubeconfig context (default: SANDBOX_CONTEXT, then the current context)."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, lab, namespace=None, from_file=None, kubeconfig=None, context=None, json=False, **options):
        lab = LABS[lab]
        try:
            if from_file:
                snapshot, source_kind = self._from_file(from_file, lab), "file"
            else:
                snapshot, source_kind = self._from_cluster(namespace, lab, kubeconfig, context), "api"
        except SourceError as error:
            self.stderr.write(f"sandbox_check: {error.message}")
            if error.detail != error.message:
                self.stderr.write(f"sandbox_check: detail: {error.detail}")
            sys.exit(EXIT_ERROR)
        report = evaluate(lab, snapshot, source=source_kind)
        if json:
            self.stdout.write(_json(report.as_dict()))
        else:
            self._print(report)
        if report.outcome == ERROR:
            self.stderr.write("sandbox_check: some required checks could not be evaluated")
            sys.exit(EXIT_ERROR)
        sys.exit(EXIT_PASS if report.outcome == PASS else EXIT_FAIL)

    def _from_file(self, path, lab):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SourceError("bad-file", f"the file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError("bad-file", f"the file {path} cannot be read ({exc})") from None
        return FileSource(text=text).snapshot(kinds_for(lab))

    def _from_cluster(self, namespace, lab, kubeconfig, context):
        cluster = ClusterSettings.from_django()
        kubeconfig = kubeconfig or cluster.kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        kubeconfig = kubeconfig or str(Path.home() / ".kube" / "config")
        if not cluster.in_cluster and not Path(kubeconfig).is_file():
            raise SourceError("not-configured", f"no kubeconfig found at {kubeconfig}; pass --kubeconfig")
        cluster.kubeconfig = "" if cluster.in_cluster and not kubeconfig else kubeconfig
        cluster.context = context or cluster.context
        return ClusterSource(cluster).snapshot(kinds_for(lab), namespace)

    def _print(self, report):
        self.stdout.write(
            f"Lab {report.lab} in namespace {report.namespace} ({'API' if report.source == 'api' else 'file'})"
        )
        for check in report.checks:
            optional = "" if check.required else " (optional)"
            self.stdout.write(f"  {MARKS.get(check.status, '?')} {check.title}{optional}: {check.actual}")
            if check.status != PASS and check.hint:
                self.stdout.write(f"      expected: {check.expected}")
                self.stdout.write(f"      fix: {check.hint}")
        for advisory in report.advisories:
            self.stdout.write(f"  ! {advisory.message}")
        verdict = self.style.SUCCESS("PASSED") if report.passed else self.style.ERROR("NOT PASSED")
        self.stdout.write(verdict)


def _json(data):
    return json_module.dumps(data, indent=2, ensure_ascii=False)
