"""Every manifest the portal shows a learner is valid Kubernetes, and says why when it draws a reviewer's advice.

Covered: every YAML block of every lesson and lab task, every break-and-fix starting manifest and every YAML
reference solution (see tests/manifests.py). Objects are validated with kubernetes-validate, strictly (an
unknown or misspelt field fails), against the version the journey states.
"""

import re

import kubernetes_validate
import pytest

from journeys.sandbox.checks import advisories
from journeys.sandbox.checks.advisories import advisories_for, workload_advisories
from journeys.sandbox.labs import LABS
from journeys.sandbox.sources import FileSource
from tests.manifests import (
    ADVICE_GROUPS,
    NOT_API_KINDS,
    ROOT,
    as_paste,
    file_blocks,
    is_api_object,
    kubernetes_version,
    lesson_blocks,
    task_blocks,
    task_files,
)

SHOWN = lesson_blocks() + task_blocks()
ALL_BLOCKS = SHOWN + file_blocks()
# Every advisory id the reviewer can give, read from its source so a new one is known here at once.
ADVICE_IDS = set(re.findall(r'\badd\(\s*"([a-z-]+)"', (ROOT / "journeys/sandbox/checks/advisories.py").read_text()))


def test_the_version_comes_from_the_journey_when_it_states_one(tmp_path):
    (tmp_path / "journey.yaml").write_text("slug: j\ntitle: J\n")
    assert kubernetes_version(tmp_path) == "1.34.0"
    for stated, meant in (("1.33", "1.33.0"), ("v1.35", "1.35.0"), ("1.32.4", "1.32.4"), ('"1.36"', "1.36.0")):
        (tmp_path / "journey.yaml").write_text(f"slug: j\ntitle: J\nkubernetes_version: {stated}\n")
        assert kubernetes_version(tmp_path) == meant


def test_the_blocks_are_found():
    # Tasks describe what to build and show commands; a YAML block there would be checked like a lesson's.
    assert len(lesson_blocks()) >= 20 and len(task_files()) == len(LABS)
    assert {block.path.name for block in file_blocks()} >= {"fix-orders.yaml", "stateful-web.yaml"}
    assert {"image-tag", "resources", "run-as-non-root", "token-automount"} <= ADVICE_IDS
    assert set().union(*ADVICE_GROUPS.values()) <= ADVICE_IDS


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=lambda block: block.where)
def test_every_manifest_is_valid_for_the_journeys_kubernetes_version(block):
    version = kubernetes_version()
    for document in block.documents():
        if is_api_object(document):
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                path = ".".join(str(part) for part in error.path)
                pytest.fail(f"{block.where}: {document['kind']} {path}: {error.message}")
        elif isinstance(document, dict):
            # A fragment (part of a spec, a values file, Chart.yaml) or a kubeconfig is fine; half an object is not.
            assert "kind" not in document or document["kind"] in NOT_API_KINDS, (
                f"{block.where}: a {document['kind']} without apiVersion"
            )


def advice_drawn(block):
    objects = block.api_objects()
    snapshot = FileSource(text=as_paste(objects)).snapshot(None, namespace="team-a")
    drawn = {advice.id for advice in advisories_for(snapshot, "all")}
    # Bare Pods are reviewed too when a lesson shows one (a lab reviews only its workloads).
    drawn |= {advice.id for pod in snapshot.of_kind("Pod") for advice in workload_advisories(snapshot, pod)}
    return drawn


@pytest.mark.parametrize("block", [block for block in ALL_BLOCKS if block.api_objects()], ids=lambda block: block.where)
def test_every_manifest_draws_no_advice_or_says_why(block):
    """A manifest a learner sees is production-ready, or carries `# Advice accepted (<ids>): <why>`.

    The accepted ids must be exactly the advice the manifest draws, so a fix that makes one go away (or a
    change that adds one) updates the comment too.
    """
    accepted, reasons = block.accepted_advice()
    assert accepted <= ADVICE_IDS, f"{block.where}: unknown advice {sorted(accepted - ADVICE_IDS)}"
    assert all(len(reason) >= 20 for reason in reasons), f"{block.where}: say why the advice is accepted"
    drawn = advice_drawn(block)
    assert drawn == accepted, (
        f"{block.where}: draws {sorted(drawn) or 'no advice'}, accepts {sorted(accepted) or 'none'}. Fix the manifest, "
        "or start the block with `# Advice accepted (<ids>): <why this example accepts it>`."
    )


def test_reference_solutions_and_starting_manifests_accept_no_advice():
    """The reference answers are what a reviewer approves of: they may not excuse anything."""
    for block in file_blocks():
        assert block.accepted_advice() == (set(), []), block.where


def test_advice_groups_are_real_advice():
    assert advisories.ADVICE_SHOWN > 0
    for name, ids in ADVICE_GROUPS.items():
        assert ids and ids <= ADVICE_IDS, name
