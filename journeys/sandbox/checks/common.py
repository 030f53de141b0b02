"""Helpers shared by the lab checks: reading pod templates, selectors, readiness, and result builders."""

import functools

from ..quantities import QuantityError, parse_quantity
from ..report import FAIL, PASS, CheckResult


def result(check_id, title, passed, *, expected, actual, hint, teaches, required=True):
    return CheckResult(
        id=check_id,
        title=title,
        status=PASS if passed else FAIL,
        required=required,
        expected=expected,
        actual=actual,
        hint="" if passed else hint,
        teaches=teaches,
    )


def missing(check_id, title, kind, name, *, hint, teaches, required=True):
    """The result for a check whose object does not exist at all."""
    return CheckResult(
        id=check_id,
        title=title,
        status=FAIL,
        required=required,
        expected=f"{kind} {name} in the namespace",
        actual=f"no {kind} named {name}",
        hint=hint,
        teaches=teaches,
    )


def spec(obj):
    return (obj or {}).get("spec") or {}


def status(obj):
    return (obj or {}).get("status") or {}


def metadata(obj):
    return (obj or {}).get("metadata") or {}


def pod_spec(obj):
    """The pod spec of a Pod or of any workload's pod template (CronJobs nest one level deeper)."""
    if obj.get("kind") == "Pod":
        return spec(obj)
    if obj.get("kind") == "CronJob":
        return spec(spec(spec(obj).get("jobTemplate")).get("template"))
    return spec(spec(obj).get("template"))


def pod_template_labels(obj):
    if obj.get("kind") == "CronJob":
        return metadata(spec(spec(obj).get("jobTemplate")).get("template")).get("labels") or {}
    return metadata(spec(obj).get("template")).get("labels") or {}


def containers(pod_spec_dict, *, init=True):
    """(container, kind) pairs: kind is "container" or "init container"."""
    found = [(container, "container") for container in pod_spec_dict.get("containers") or []]
    if init:
        found += [(container, "init container") for container in pod_spec_dict.get("initContainers") or []]
    return found


def resource(container, section, name):
    """A container's request or limit for ``name``, or None."""
    return ((container.get("resources") or {}).get(section) or {}).get(name)


def has_quantity(container, section, name):
    value = resource(container, section, name)
    if value is None:
        return False
    try:
        parse_quantity(value)
    except QuantityError:
        return False
    return True


def condition(obj, condition_type):
    for item in status(obj).get("conditions") or []:
        if item.get("type") == condition_type:
            return item
    return None


def condition_true(obj, condition_type):
    found = condition(obj, condition_type)
    return bool(found) and str(found.get("status")) == "True"


def pod_ready(pod):
    return condition_true(pod, "Ready")


def selector_matches(selector, labels):
    """A label selector (a plain map, or matchLabels/matchExpressions) against a set of labels."""
    if not selector:
        return False
    labels = labels or {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        plain = selector.get("matchLabels") or {}
        expressions = selector.get("matchExpressions") or []
    else:
        plain, expressions = selector, []
    if any(labels.get(key) != value for key, value in plain.items()):
        return False
    for expression in expressions:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def tolerates(toleration, taint):
    """Whether one toleration tolerates a taint, by the scheduler's rules."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    operator = toleration.get("operator") or "Equal"
    key = toleration.get("key") or ""
    if operator == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and (toleration.get("value") or "") == (taint.get("value") or "")


def describe_labels(labels):
    return listing([f"{key}={value}" for key, value in sorted((labels or {}).items())], ", ") or "no labels"


def listing(items, separator="; ", *, limit=5):
    """The first few of ``items`` joined, and how many more: a report names offenders, not thousands."""
    items = list(items)
    shown = separator.join(str(item) for item in items[:limit])
    return shown + (f" (and {len(items) - limit} more)" if len(items) > limit else "")


def requests_above_limits(container):
    """Resources whose request is larger than the limit, compared as quantities (`500m` < `1`)."""
    problems = []
    for name in ("cpu", "memory"):
        request, limit = resource(container, "requests", name), resource(container, "limits", name)
        if request is None or limit is None:
            continue
        try:
            if parse_quantity(request) > parse_quantity(limit):
                problems.append(f"its {name} request ({request}) is above its limit ({limit})")
        except QuantityError:
            problems.append(f"its {name} request or limit is not a valid quantity")
    return problems


def exists_check(check_id, kind, name, *, hint, teaches):
    """A check that one object exists, named like the other checks (the function name is its id)."""

    def check(snapshot):
        found = snapshot.get(kind, name)
        return result(
            check_id, f"{kind} {name} exists", found is not None,
            expected=f"a {kind} named {name}", actual="found" if found else f"no {kind} named {name}",
            hint=hint, teaches=teaches,
        )  # fmt: skip

    check.__name__ = check_id.replace("-", "_")
    return check


def requires(kind, name, check_id, title, *, teaches, hint=None, required=True):
    """Decorate a check that reads one object: when it is missing, answer that instead of checking.

    The decorated function receives the object: ``check(snapshot, found)``.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(snapshot):
            found = snapshot.get(kind, name)
            if found is None:
                return missing(
                    check_id,
                    title,
                    kind,
                    name,
                    hint=hint or f"Create the {kind} first.",
                    teaches=teaches,
                    required=required,
                )
            return check(snapshot, found)

        return run

    return decorate
