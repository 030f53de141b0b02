"""The manifests the portal shows learners, read the way the tests check them.

Lessons and lab tasks hold fenced YAML blocks; break-and-fix labs start from a manifest in
``journeys/sandbox/starting/``; every lab has one reference solution in ``journeys/sandbox/solutions/``.
This module finds them all, splits them into documents, and knows two conventions:

* which Kubernetes version they are validated against (``kubernetes_version``), and
* how a lesson says why a manifest it shows is allowed to draw the production reviewer's advice: a
  comment line in the block, ``# Advice accepted (<ids>): <why>``, visible to the learner like any other
  comment. ``<ids>`` are advisory ids (``image-tag``, ``resources``, ``token-automount`` ...) or the
  groups ``probes`` and ``security`` (see ``ADVICE_GROUPS``).
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONTENT = ROOT / "journeys" / "content"
JOURNEY = CONTENT / "intermediate-app-developer"
SANDBOX = ROOT / "journeys" / "sandbox"
DEFAULT_KUBERNETES_VERSION = "1.34.0"

# A fence may be indented (a code block inside a list item); the closing fence has the same indent.
FENCE = re.compile(
    r"^(?P<indent>[ ]*)(?P<fence>`{3,})(?P<language>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)(?P=fence)[ ]*$",
    re.S | re.M,
)
# Files that share YAML's syntax but are not objects of the Kubernetes API: a kubeconfig is `kind: Config`.
NOT_API_KINDS = {"Config"}
ACCEPTED = re.compile(r"^[ ]*# Advice accepted \((?P<ids>[a-z0-9, -]+)\): (?P<why>.+)$", re.M)
ADVICE_GROUPS = {
    "probes": {"readiness-probe", "liveness-probe"},
    "security": {"run-as-non-root", "allow-privilege-escalation", "read-only-root-filesystem"},
}


def kubernetes_version(journey_dir=JOURNEY):
    """The Kubernetes version a journey's manifests must be valid for: journey.yaml's ``kubernetes_version``
    (``1.34``, ``v1.34`` or ``1.34.0``), else 1.34.0. kubernetes-validate wants all three parts."""
    data = yaml.safe_load((journey_dir / "journey.yaml").read_text(encoding="utf-8")) or {}
    value = str(data.get("kubernetes_version") or DEFAULT_KUBERNETES_VERSION).strip().lstrip("v")
    parts = value.split(".")
    return ".".join([*parts, "0", "0"][:3])


@dataclass(frozen=True)
class Block:
    """One YAML text shown to learners: a fenced block of a lesson or task, or a whole manifest file."""

    path: Path
    line: int
    text: str

    @property
    def where(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    def documents(self):
        return [document for document in yaml.safe_load_all(self.text) if document is not None]

    def api_objects(self):
        return [document for document in self.documents() if is_api_object(document)]

    def accepted_advice(self):
        """(advisory ids, reasons) the block's ``# Advice accepted`` comments name."""
        ids, reasons = set(), []
        for match in ACCEPTED.finditer(self.text):
            for name in (part.strip() for part in match.group("ids").split(",")):
                ids |= ADVICE_GROUPS.get(name, {name})
            reasons.append(match.group("why").strip())
        return ids, reasons


def is_api_object(document):
    return (
        isinstance(document, dict)
        and isinstance(document.get("apiVersion"), str)
        and isinstance(document.get("kind"), str)
        and document["kind"] not in NOT_API_KINDS
    )


def fenced_blocks(path, language="yaml"):
    text = path.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        if match.group("language") != language:
            continue
        indent = len(match.group("indent"))
        body = "\n".join(line[indent:] for line in match.group("body").split("\n"))
        yield Block(path, text.count("\n", 0, match.start()) + 1, body)


def lesson_files():
    return sorted(path for path in JOURNEY.glob("*.md"))


def task_files():
    return sorted((SANDBOX / "tasks").glob("*.md"))


def lesson_blocks():
    return [block for path in lesson_files() for block in fenced_blocks(path)]


def task_blocks():
    return [block for path in task_files() for block in fenced_blocks(path)]


def manifest_files():
    """The starting manifests of the break-and-fix labs and the YAML reference solutions."""
    return sorted((SANDBOX / "starting").glob("*.yaml")) + sorted((SANDBOX / "solutions").glob("*.yaml"))


def file_blocks():
    return [Block(path, 1, path.read_text(encoding="utf-8")) for path in manifest_files()]


def as_paste(objects):
    """Objects as a learner pastes them: one JSON List, the shape of `kubectl get ... -o json`."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
