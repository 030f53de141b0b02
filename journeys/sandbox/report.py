"""The result of one lab check run, in the JSON shape the `sandbox_check --json` contract promises."""

from dataclasses import asdict, dataclass, field

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"


@dataclass
class CheckResult:
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
class Advisory:
    id: str
    message: str
    object: str = ""
    status: str = "warn"

    def as_dict(self):
        return {"id": self.id, "status": self.status, "message": self.message, "object": self.object}


@dataclass
class LabReport:
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
