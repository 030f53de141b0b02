"""Verdicts a hostile tester found wrong: each lab's pass fixture, changed in one place, must get the
right verdict on the right check, with plain words, and large well-shaped objects must cost linear time."""

import copy
import json
from pathlib import Path

import pytest
import yaml

from journeys.sandbox.checks.common import selector_matches
from journeys.sandbox.labs import LABS, evaluate
from journeys.sandbox.quantities import QuantityError, parse_quantity
from journeys.sandbox.schedules import ScheduleError, expand
from journeys.sandbox.sources import FileSource

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def items_of(slug):
    return yaml.safe_load((FIXTURES / slug / "pass.yaml").read_text())["items"]


def the(items, kind):
    return next(item for item in items if item["kind"] == kind)


def report(slug, items):
    lab = LABS[slug]
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    return evaluate(lab, FileSource(text=text).snapshot(lab.kinds), source="file")


def checks(slug, items):
    return {check.id: check for check in report(slug, items).checks}


def failing(slug, items):
    return {check.id for check in report(slug, items).checks if check.required and check.status != "pass"}


# --- nightly-backup: schedules by meaning, suspend ---


def with_schedule(schedule, **more):
    items = items_of("nightly-backup")
    the(items, "CronJob")["spec"].update(schedule=schedule, **more)
    return items


@pytest.mark.parametrize("schedule", ["0-0 2-2 * * *", "0 2 1-31 * 0-6", "00 02 * * *", "0 2 1-31 * 1-5"])
def test_schedules_that_mean_every_day_at_two_pass(schedule):
    assert failing("nightly-backup", with_schedule(schedule)) == set()


def test_day_of_week_7_fails_and_says_to_use_0():
    found = checks("nightly-backup", with_schedule("0 2 * * 0-7"))["schedule"]
    assert found.status == "fail"
    assert "use 0 for Sunday" in found.actual


@pytest.mark.parametrize("schedule", ["0 ² * * *", "0 ٢ * * *", "٠ 2 * * *"])
def test_schedules_with_other_digits_fail_without_crashing(schedule):
    found = checks("nightly-backup", with_schedule(schedule))["schedule"]
    assert found.status == "fail"
    assert "not a valid schedule" in found.actual and "every day" not in found.actual


def test_a_suspended_cronjob_fails_the_schedule_check():
    found = checks("nightly-backup", with_schedule("0 2 * * *", suspend=True))["schedule"]
    assert found.status == "fail"
    assert "spec.suspend is true" in found.actual
    assert "remove spec.suspend or set it to false" in found.hint
    assert failing("nightly-backup", with_schedule("0 2 * * *", suspend=False)) == set()


# --- healthy-app: a Deployment that runs nothing ---


@pytest.mark.parametrize("replicas", [0, -1])
def test_a_deployment_scaled_to_nothing_is_not_healthy(replicas):
    items = [item for item in items_of("healthy-app") if item["kind"] != "Pod"]
    the(items, "Deployment")["spec"]["replicas"] = replicas
    found = checks("healthy-app", items)["pods-ready"]
    assert found.status == "fail"
    assert found.expected == "at least 1 Ready Pod"
    assert found.actual == f"spec.replicas is {replicas}: nothing runs"
    assert failing("healthy-app", items) == {"pods-ready"}


# --- stateful-web: a Service selector is a plain map ---


def with_service_selector(selector, pod_labels=None):
    items = items_of("stateful-web")
    the(items, "Service")["spec"]["selector"] = selector
    if pod_labels is not None:
        the(items, "StatefulSet")["spec"]["template"]["metadata"]["labels"].update(pod_labels)
    return items


def test_a_service_selector_named_like_a_label_selector_does_not_crash():
    found = checks("stateful-web", with_service_selector({"matchLabels": "x"}))["service-selects-pods"]
    assert found.status == "fail"
    assert "matchLabels=x" in found.expected


def test_a_service_selector_key_named_matchlabels_is_a_label():
    items = with_service_selector({"matchLabels": "x", "app": "web"}, {"matchLabels": "x"})
    assert checks("stateful-web", items)["service-selects-pods"].status == "pass"


# --- team-quota and node-agent: quantities the API server accepts ---


@pytest.mark.parametrize("hard", [{"pods": "-1"}, {"pods": "1.5"}, {"pods": "lots"}, {"limits.cpu": "-4"}])
def test_every_quota_value_must_be_a_valid_quantity(hard):
    items = items_of("team-quota")
    the(items, "ResourceQuota")["spec"]["hard"].update(hard)
    found = checks("team-quota", items)["quota-covers-resources"]
    assert found.status == "fail"
    assert next(iter(hard)) in found.actual


@pytest.mark.parametrize(
    ("section", "value"), [("defaultRequest", "lots"), ("default", "-64Mi"), ("defaultRequest", "٣")]
)
def test_limitrange_defaults_must_be_valid_quantities(section, value):
    items = items_of("team-quota")
    for limit in the(items, "LimitRange")["spec"]["limits"]:
        limit[section]["memory"] = value
    assert "limitrange-defaults" in failing("team-quota", items)


@pytest.mark.parametrize(
    ("cpu", "said"), [("-10m", "a cpu request of -10m, below 0"), ("٣", "which is not a quantity"), ("1e3Ki", "not a")]
)
def test_negative_or_unicode_requests_are_not_declared(cpu, said):
    items = items_of("node-agent")
    for container in the(items, "DaemonSet")["spec"]["template"]["spec"]["containers"]:
        container["resources"]["requests"]["cpu"] = cpu
    assert failing("node-agent", items) == {"cpu-memory-requests"}
    assert said in checks("node-agent", items)["cpu-memory-requests"].actual


# --- Large but well-shaped input: right answers (their cost is measured by make bench-sandbox) ---


def test_a_container_with_ten_thousand_ports_is_checked():
    items = items_of("healthy-app")
    deployment = the(items, "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    container["ports"] = [{"containerPort": 10000 + index, "name": f"p{index}"} for index in range(10_000)]
    container["ports"].append({"containerPort": 8080, "name": "http"})
    assert failing("healthy-app", items) == set()


def test_a_selector_with_ten_thousand_expressions_is_matched():
    labels = {f"key-{index}": "value" for index in range(10_000)}
    selector = {
        "matchLabels": copy.deepcopy(labels),
        "matchExpressions": [
            {"key": f"key-{index}", "operator": "In", "values": ["other", "value"]} for index in range(10_000)
        ],
    }
    assert selector_matches(selector, labels)
    selector["matchExpressions"].append({"key": "key-0", "operator": "NotIn", "values": ["value"]})
    assert not selector_matches(selector, labels)


def test_a_service_with_thousands_of_long_selector_labels_is_reported_briefly():
    """A paste holds at most 1 MiB: 2,000 labels with keys of 300 characters fit; the report names five, cut short."""
    selector = {f"key-{index}-" + "k" * 300: "v" for index in range(2_000)}
    found = checks("stateful-web", with_service_selector(selector))["service-selects-pods"]
    assert found.status == "fail"
    assert len(found.expected) < 1000 and "(and 1995 more)" in found.expected


def test_a_quota_with_ten_thousand_broken_values_is_reported_briefly():
    items = items_of("team-quota")
    the(items, "ResourceQuota")["spec"]["hard"].update({f"count/thing-{index}": "-1" for index in range(10_000)})
    found = checks("team-quota", items)["quota-covers-resources"]
    assert found.status == "fail"
    assert len(found.actual) < 1000 and "more)" in found.actual


def test_a_long_run_of_digits_is_no_quantity_at_once():
    """The old pattern could split a run of digits two ways (\\d+\\.?\\d*): a failing match took quadratic time."""
    with pytest.raises(QuantityError):
        parse_quantity("1" * 50_000 + "x")


def test_a_long_schedule_is_refused_at_once():
    with pytest.raises(ScheduleError):
        expand(",".join(["0-59"] * 100_000) + " 2 * * *")
