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


@pytest.mark.parametrize(
    "text",
    # Digits other than ASCII 0-9 (Python's \d takes them), an exponent with a suffix, what is not a finite number.
    ["lots", "1 Gi", "", "1GB", "--1", "٣", "1٣", "²", "１", "1e3Ki", "1e", ".", float("nan"), float("inf")],
)
def test_not_a_quantity(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("0 2 * * *", "00 02 * * *", True),
        ("0 2 * * *", "0 2 * * 0-6", True),
        ("0 0 * * *", "@daily", True),
        ("0 2 * * *", "0-0 2-2 * * *", True),  # a range of one value is that value
        ("0 2 * * *", "0 2 1-31 * 0-6", True),  # fields covering their whole range are every
        ("0 2 * * *", "0 2 ? * sun-sat", True),
        # Neither day field has a star, so robfig/cron runs on a day matching either: day 1-31 is every day.
        ("0 2 * * *", "0 2 1-31 * 1-5", True),
        ("0 2 * * *", "0 2 */1 * *", True),
        ("0 2 * * *", "5-5 2 * * *", False),  # croniter read 5-5 as *
        ("0 2 * * *", "0 2 * * 0-7", False),  # Kubernetes refuses day-of-week 7
        ("0 0 * * 7", "0 0 * * 0", False),
        ("0 2 * * *", "0 ٢ * * *", False),  # an Arabic-Indic two is no digit to Kubernetes
        ("0 2 * * *", "0 2 L * *", False),
        ("0 2 * * *", "0 2 * * 6-0", False),
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


@pytest.mark.parametrize("schedule", ["0 2 * * 7", "0 2 * * 0-7", "0 2 * * 5-7", "0 2 * * 1,7", "0 2 * * 7/1"])
def test_day_of_week_7_is_refused_with_sunday_as_0(schedule):
    """robfig/cron, which the CronJob controller parses with, bounds day-of-week to 0-6."""
    with pytest.raises(ScheduleError, match="use 0 for Sunday"):
        expand(schedule)
    assert "use 0 for Sunday" in describe(schedule)


@pytest.mark.parametrize("schedule", ["0 ² * * *", "0 ٢ * * *", "０ 2 * * *", "0 2 * * ᛫", "0\u00a02 * * *"])
def test_only_ascii_makes_a_schedule(schedule):
    """isdigit() is True for "²", which int() refuses; "٢" is 2 to int() and the describer, not to Kubernetes."""
    with pytest.raises(ScheduleError, match="digits 0-9"):
        expand(schedule)
    words = describe(schedule)
    assert words.startswith("not a valid schedule") and "every day" not in words
    assert not same_schedule(schedule, "0 2 * * *")


def test_schedules_in_words_follow_their_meaning():
    assert describe("0-0 2-2 * * *") == "every day at 02:00"
    assert describe("0 2 1-31 * 0-6") == "every day at 02:00"
    assert describe("@daily") == "every day at 00:00"
    assert "fixed interval" in describe("@every 24h")


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
        # Tolerations the API server refuses tolerate nothing.
        ({"key": "node-role.kubernetes.io/control-plane", "operator": "exists", "effect": "NoSchedule"}, False),
        ({"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "value": "x"}, False),
        ({"operator": "Exists", "effect": "noschedule"}, False),
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
        # Selectors the API server refuses match nothing, whatever their shape.
        ({"matchLabels": "x"}, {"matchLabels": "x"}, False),
        ({"matchLabels": ["app"]}, {"app": "web"}, False),
        ({"matchExpressions": "x"}, {"app": "web"}, False),
        ({"matchExpressions": ["x"]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists", "values": "web"}]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "in", "values": ["web"]}]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In"}]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["web"]}]}, {"app": "web"}, False),
    ],
)
def test_selector_matches_labels(selector, labels, matches):
    assert selector_matches(selector, labels) is matches


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"matchLabels": "x"}, {"matchLabels": "x"}, True),  # a Service selector's keys are label keys
        ({"matchLabels": "x"}, {"app": "web"}, False),
        ({"matchExpressions": "x", "app": "web"}, {"app": "web"}, False),
        ({"app": "web"}, {"app": "web", "tier": "front"}, True),
        ({}, {"app": "web"}, False),
    ],
)
def test_plain_selectors_are_maps_of_labels(selector, labels, matches):
    assert selector_matches(selector, labels, plain=True) is matches


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


@pytest.mark.parametrize(
    ("hard", "problem"),
    [
        ({"pods": "-1"}, "pods (-1) is negative"),
        ({"pods": -1}, "pods (-1) is negative"),
        ({"pods": "1.5"}, "pods (1.5) is not a whole number"),
        ({"pods": "500m"}, "pods (500m) is not a whole number"),
        ({"services": "lots"}, "services (lots) is not a quantity"),
        ({"requests.cpu": "٣"}, "requests.cpu (٣) is not a quantity"),
        ({"limits.memory": "-1Gi"}, "limits.memory (-1Gi) is negative"),
    ],
)
def test_every_quota_value_is_a_quantity_of_0_or_more(hard, problem):
    from journeys.sandbox.checks.quotas import hard_value_problems

    assert hard_value_problems(hard) == [problem]
    assert hard_value_problems({"pods": "20", "requests.cpu": "0", "limits.memory": "4Gi", "cpu": 1.5}) == []


@pytest.mark.parametrize("value", ["-100m", "-1", -1, "٣", "1e3Ki", "lots"])
def test_negative_or_broken_requests_are_not_declared(value):
    from journeys.sandbox.checks.common import has_quantity

    assert not has_quantity({"resources": {"requests": {"cpu": value}}}, "requests", "cpu")
    assert has_quantity({"resources": {"requests": {"cpu": "0"}}}, "requests", "cpu")
