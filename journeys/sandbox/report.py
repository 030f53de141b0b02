"""The result of one lab check run, in the JSON shape the `sandbox_check --json` contract promises.

A report is stored (JSON in the database) and shown, so every text in it is made safe when the
result is made: bounded, without control characters (a NUL cannot be stored in PostgreSQL, an
escape sequence would reach an operator's terminal) and without lone UTF-16 halves (which cannot
be encoded at all). Whatever a paste held, a report stays within a few tens of kilobytes.
"""

import re
from dataclasses import asdict, dataclass, field

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"
# The longest text one field of a report shows; checks name a few offenders, so real ones are short.
FIELD_MAX = 500
# Control characters other than line breaks and tabs, and lone surrogates.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(value):
    """``value`` as text that JSON, PostgreSQL and a page can hold, at most FIELD_MAX characters."""
    text = value if isinstance(value, str) else str(value)
    text = _UNSTORABLE.sub("\ufffd", text)
    return text if len(text) <= FIELD_MAX else text[: FIELD_MAX - 1] + "…"


class _Storable:
    """Every field is made storable text as it is set (yes/no values and the lists of results aside),
    so the page shows what the database keeps, and ``as_dict`` has nothing left to clean."""

    def __setattr__(self, name, value):
        super().__setattr__(name, value if isinstance(value, (bool, list)) else storable(value))


@dataclass
class CheckResult(_Storable):
    id: str
    title: str
    status: str
    required: bool = True
    expected: str = ""
    actual: str = ""
    hint: str = ""
    # Lesson section that teaches this, as "lesson-slug#anchor"; turned into a link by the page.
    teaches: str = ""

    def as_dict(self):
        return asdict(self)


@dataclass
class Advisory(_Storable):
    id: str
    message: str
    object: str = ""
    status: str = "warn"

    def as_dict(self):
        return {"id": self.id, "status": self.status, "message": self.message, "object": self.object}


@dataclass
class LabReport(_Storable):
    lab: str
    namespace: str
    source: str  # "api" or "file"
    checks: list = field(default_factory=list)
    advisories: list = field(default_factory=list)

    @property
    def passed(self):
        return all(check.status == PASS for check in self.checks if check.required)

    @property
    def outcome(self):
        if any(check.status == ERROR for check in self.checks if check.required):
            return ERROR
        return PASS if self.passed else FAIL

    def as_dict(self):
        return {
            "lab": self.lab,
            "namespace": self.namespace,
            "source": self.source,
            "passed": self.passed,
            "checks": [
                {key: value for key, value in check.as_dict().items() if key != "teaches"} for check in self.checks
            ],
            "advisories": [advisory.as_dict() for advisory in self.advisories],
        }
