"""The answers the portal reveals pass their labs, and the broken manifests it hands out fail them, checked the
way a learner's paste is: posted to the lab panel, read, shape-checked, evaluated and recorded.

A file holds no running Pods, so checks that read what only a cluster reports (Pods Ready, a Job complete)
cannot pass from it; the pass fixtures (the labs as deployed) cover those.
"""

import json

import pytest
import yaml
from django.urls import reverse

from journeys.models import LabRun
from journeys.sandbox.checks.declarative import LAST_APPLIED
from journeys.sandbox.labs import LABS
from tests.manifests import as_paste

from .test_lab_checks import NEEDS_A_CLUSTER

pytestmark = pytest.mark.django_db
# The Helm lab's answer is a script that installs a chart: there is no manifest to paste.
PASTABLE = sorted(slug for slug, lab in LABS.items() if lab.solution_file.endswith(".yaml"))
BREAK_AND_FIX = sorted(slug for slug, lab in LABS.items() if lab.fix)


def as_applied(path):
    """The manifest's objects as `kubectl apply -f` then `kubectl get -o json` show them."""
    objects = [item for item in yaml.safe_load_all(path.read_text(encoding="utf-8")) if item]
    for item in objects:
        item["metadata"].setdefault("namespace", "team-a")
        item["metadata"].setdefault("annotations", {})[LAST_APPLIED] = json.dumps(item, sort_keys=True)
    return as_paste(objects)


def pasted_report(client, slug, text):
    response = client.post(
        reverse("journeys:lab_check", args=[slug]), {"mode": "file", "paste": text}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.content.decode()[:500]
    run = LabRun.objects.get(lab_slug=slug)
    return {check["id"]: check for check in run.report["checks"]}, run.report["advisories"]


@pytest.mark.parametrize("slug", PASTABLE)
def test_the_reference_solution_passes_its_lab_when_pasted(client, curriculum, slug):
    checks, advice = pasted_report(client, slug, as_applied(LABS[slug].solution_path))
    failing = {check_id: check["actual"] for check_id, check in checks.items() if check["status"] != "pass"}
    assert set(failing) <= NEEDS_A_CLUSTER.get(slug, set()), failing
    assert advice == [], "the reference solution draws the reviewer's advice"


@pytest.mark.parametrize("slug", BREAK_AND_FIX)
def test_the_starting_manifest_fails_its_lab_when_pasted(client, curriculum, slug):
    """Broken where a file shows it, not only where a cluster would: the learner has something to find."""
    checks, _ = pasted_report(client, slug, as_applied(LABS[slug].starting_path))
    failing = {check_id for check_id, check in checks.items() if check["status"] != "pass"}
    assert failing - NEEDS_A_CLUSTER[slug], f"{slug}: the starting manifest passes every check a file can pass"
    # It is the app the lab is about: only the faults fail, not the checks that it was repaired, not replaced.
    assert checks["same-app"]["status"] == "pass"
    assert checks["deployment-exists"]["status"] == "pass"


def test_every_break_and_fix_lab_has_a_starting_manifest_and_a_solution():
    assert len(BREAK_AND_FIX) >= 3
    for slug in BREAK_AND_FIX:
        lab = LABS[slug]
        assert lab.starting_path.is_file() and lab.solution_path.is_file(), slug
        assert lab.starting_path.read_text() != lab.solution_path.read_text(), slug
