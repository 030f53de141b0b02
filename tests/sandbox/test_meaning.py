"""The comparisons checks rely on: quantities, schedules, tolerations, selectors, readiness, RBAC rules."""

import pytest

from journeys.sandbox.checks.advisories import image_untagged
from journeys.sandbox.checks.common import pod_ready, selector_matches, tolerates
from journeys.sandbox.checks.rbac import beyond_pod_reading, rule_allows
from journeys.sandbox.quantities import QuantityError, parse_quantity, same_quantity
from journeys.sandbox.schedules import ScheduleError, describe, expand, same_schedule


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("500m", "0.5"),
        ("1Gi", "1073741824"),
        ("1", "1000m"),
        ("128Mi", "134217728"),
        ("1e3", "1k"),
        ("0.1", "100m"),
        (2, "2"),
    ],
)
def test_equal_quantities(left, right):
    assert same_quantity(left, right)


@pytest.mark.parametrize(("left", "right"), [("1G", "1Gi"), ("500m", "5"), ("1Mi", "1M")])
def test_different_quantities(left, right):
    assert not same_quantity(left, right)


@pytest.mark.parametrize("text", ["lots", "1 Gi", "", "1GB", "--1"])
def test_not_a_quantity(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("0 2 * * *", "00 02 * * *", True),
        ("0 2 * * *", "0 2 * * 0-6", True),
        ("0 0 * * *", "@daily", True),
        ("0 0 * * 7", "0 0 * * 0", True),
        ("0 2 * * *", "0 3 * * *", False),
        ("0 2 * * *", "* 2 * * *", False),
        ("0 2 * * *", "0 2 * * 1-5", False),
        ("0 2 * * *", "not a schedule", False),
    ],
)
def test_schedules_compare_by_meaning(left, right, same):
    assert same_schedule(left, right) is same


def test_schedules_in_words():
    assert describe("0 2 * * *") == "every day at 02:00"
    assert describe("00 02 * * *") == "every day at 02:00"
    assert "monday through friday" in describe("30 18 * * 1-5").lower()


def test_bad_schedules_are_reported():
    with pytest.raises(ScheduleError, match="five fields"):
        expand("0 2 * *")
    with pytest.raises(ScheduleError, match="not a valid cron schedule"):
        expand("0 25 * * *")


CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("toleration", "tolerated"),
    [
        ({"operator": "Exists"}, True),  # no key and Exists: every taint
        ({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}, True),
        ({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}, True),  # any effect
        (
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Equal", "value": "", "effect": "NoSchedule"},
            True,
        ),
        ({"key": "node-role.kubernetes.io/control-plane", "effect": "NoExecute", "operator": "Exists"}, False),
        ({"key": "node-role.kubernetes.io/master", "operator": "Exists"}, False),
        ({"key": "node-role.kubernetes.io/control-plane", "value": "true", "effect": "NoSchedule"}, False),
    ],
)
def test_toleration_semantics(toleration, tolerated):
    assert tolerates(toleration, CONTROL_PLANE) is tolerated


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"app": "web"}, {"app": "web", "tier": "front"}, True),
        ({"app": "web"}, {"app": "website"}, False),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}],
            },
            {"app": "web", "tier": "front"},
            True,
        ),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]}, {"tier": "back"}, False),
        ({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist"}]}, {"app": "x"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {}, False),
        ({}, {"app": "web"}, False),  # an empty Service selector selects nothing it manages
    ],
)
def test_selector_matches_labels(selector, labels, matches):
    assert selector_matches(selector, labels) is matches


def test_readiness_comes_from_conditions():
    assert pod_ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert not pod_ready({"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}})
    assert not pod_ready({"status": {"phase": "Running"}})


def test_rbac_wildcards():
    everything = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    assert rule_allows(everything, "delete", "apps", "deployments")
    assert beyond_pod_reading(everything)
    pod_reader = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    assert rule_allows(pod_reader, "watch", "", "pods") and not rule_allows(pod_reader, "delete", "", "pods")
    assert beyond_pod_reading(pod_reader) == []
    assert beyond_pod_reading({"apiGroups": [""], "resources": ["pods", "secrets"], "verbs": ["get"]}) == [
        "resources secrets"
    ]


@pytest.mark.parametrize(
    ("image", "untagged"),
    [("nginx", True), ("nginx:latest", True), ("registry:5000/team/app", True), ("nginx:1.27", False),
     ("registry:5000/team/app:2.1", False), ("nginx@sha256:" + "a" * 64, False)],
)  # fmt: skip
def test_image_tags(image, untagged):
    assert image_untagged(image) is untagged


def test_quota_and_container_values_are_compared_as_quantities():
    from journeys.sandbox.checks.common import requests_above_limits
    from journeys.sandbox.checks.quotas import quota_value_problems

    assert (
        quota_value_problems(
            {"requests.cpu": "500m", "limits.cpu": "1", "requests.memory": "1Gi", "limits.memory": "1073741824"}
        )
        == []
    )
    assert quota_value_problems({"cpu": "2500m", "limits.cpu": "2"}) == ["limits.cpu (2) is below requests.cpu (2500m)"]
    container = {
        "resources": {"requests": {"cpu": "0.5", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "100M"}}
    }
    assert requests_above_limits(container) == ["its memory request (128Mi) is above its limit (100M)"]
