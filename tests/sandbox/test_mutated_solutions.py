"""Property: any single value of a real lab answer, changed to anything, ends in a report or a clear refusal.

Each example takes a reference solution or a passing fixture, replaces one value somewhere in one
object (a wrong type, a NUL byte, a huge number, deep nesting, a long name), writes it back as YAML
or JSON the way a learner would paste it, and sends it through everything a lab check runs: the
reader, the shape check, the snapshot, every check and the advice, the report and the LabRun
insert. A refusal must be a SourceError with a message; a report must be storable as JSON.
"""

import json
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.models import LabRun
from journeys.sandbox.labs import LABS, evaluate, kinds_for
from journeys.sandbox.sources import FileSource, SourceError
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "journeys" / "sandbox" / "solutions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@cache
def answers():
    """(lab slug, objects) for every YAML solution and passing fixture."""
    found = []
    for slug in LABS:
        paths = [SOLUTIONS / f"{slug}.yaml", *sorted((FIXTURES / slug).glob("pass*.yaml"))]
        for path in paths:
            if path.is_file():
                objects = FileSource(text=path.read_text()).objects()
                found.append((slug, objects))
    return found


def paths_in(value, prefix=()):
    """Every path to a value inside ``value`` (keys of mappings, indices of lists)."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths_in(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths_in(child, (*prefix, index))


def nested(depth):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.just("a\x00b"),
    st.just("x" * 300),
    st.just("\ud800"),
    st.sampled_from(["", "None", "true", "0x1F", "1e999", "500m", "NaN", "-1", "web", "*", "Forbid", "0 2 * * *"]),
)
REPLACEMENTS = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**300, -(10**300), 0, -1, 2**63]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.builds(nested, st.integers(min_value=10, max_value=120)),
    st.just({"a": {"b": {"c": [{"d": None}]}}}),
)


@st.composite
def mutated_answers(draw):
    slug, objects = draw(st.sampled_from(answers()))
    objects = json.loads(json.dumps(objects))
    target = draw(st.integers(min_value=0, max_value=len(objects) - 1))
    path = draw(st.sampled_from(list(paths_in(objects[target]))))
    replacement = draw(REPLACEMENTS)
    if path:
        parent = objects[target]
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = replacement
    else:
        objects[target] = replacement
    as_json = draw(st.booleans())
    return slug, objects, as_json


def paste_text(objects, as_json):
    if as_json:
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects})
    return yaml.safe_dump_all(objects, sort_keys=False)


@pytest.mark.slow
@pytest.mark.django_db
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_answers())
def test_a_changed_value_ends_in_a_report_or_a_clear_refusal(example):
    slug, objects, as_json = example
    lab = LABS[slug]
    try:
        text = paste_text(objects, as_json)
    except (ValueError, yaml.YAMLError):
        return  # the test's own serialiser cannot write this value (an integer too long for str())
    try:
        snapshot = FileSource(text=text).snapshot(kinds_for(lab))
    except SourceError as refusal:
        assert refusal.message and refusal.is_input_problem
        assert len(refusal.message) < 3000
        return
    report = evaluate(lab, snapshot, source="file")
    data = report.as_dict()
    stored = json.dumps(data, allow_nan=False, ensure_ascii=False)
    stored.encode("utf-8")
    assert len(stored) < 100_000
    assert {check["status"] for check in data["checks"]} <= {"pass", "fail", "error", "skip"}
    # An error result means a check broke on an object that passed the shape check: a bug.
    assert not [
        check for check in data["checks"] if check["status"] == "error" and check["id"] != "effective-permissions"
    ]
    lesson = _lesson()
    LabRun.objects.create(
        lab_slug=lab.slug, lesson=lesson, source="file", namespace=report.namespace, outcome=report.outcome, report=data
    )


def _lesson():
    from journeys.models import Lesson

    return Lesson.objects.first() or factories.LessonFactory()
