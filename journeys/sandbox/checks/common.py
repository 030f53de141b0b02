"""Helpers shared by the lab checks: reading pod templates, selectors, readiness, and result builders."""

import functools

from ..quantities import QuantityError, non_negative_quantity, parse_quantity
from ..report import FAIL, PASS, CheckResult
from ..shapes import shortened


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


def container_named(found, name):
    """The app container called ``name`` of a workload's Pod template, or None."""
    return next(
        (container for container, _ in containers(pod_spec(found), init=False) if container.get("name") == name), None
    )


def resource(container, section, name):
    """A container's request or limit for ``name``, or None."""
    return ((container.get("resources") or {}).get(section) or {}).get(name)


def has_quantity(container, section, name):
    """Whether a container declares ``name`` under ``section`` as a quantity the API server accepts (0 or more)."""
    return non_negative_quantity(resource(container, section, name)) is not None


def quantity_problem(container, section, name):
    """Why a container's request or limit does not count, in words ("no cpu request"), or None when it counts."""
    value, what = resource(container, section, name), f"{name} {section.removesuffix('s')}"
    if value is None:
        return f"no {what}"
    if non_negative_quantity(value) is not None:
        return None
    try:
        parse_quantity(value)
    except QuantityError:
        return f"a {what} of {shortened(value, 30)}, which is not a quantity such as 250m or 64Mi"
    return f"a {what} of {shortened(value, 30)}, below 0"


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


# The operators of a LabelSelector's matchExpressions, and whether each takes a list of values.
OPERATORS = {"In": True, "NotIn": True, "Exists": False, "DoesNotExist": False}


def selector_matches(selector, labels, *, plain=False):
    """Whether ``labels`` match a selector; an empty selector matches nothing here.

    With ``plain=True`` the selector is a map of label to value, as a Service's spec.selector always is:
    a key named matchLabels is then just a label key. Otherwise it is a LabelSelector (matchLabels and
    matchExpressions), or a plain map for an object that predates LabelSelectors. A selector the API
    server would refuse (matchLabels that is not a map, an expression that is not a mapping, an unknown
    operator, In without values, Exists with values) matches nothing.
    """
    if not selector or not isinstance(selector, dict):
        return False
    labels = labels if isinstance(labels, dict) else {}
    if plain or not ("matchLabels" in selector or "matchExpressions" in selector):
        return _labels_match(selector, labels)
    match_labels, expressions = selector.get("matchLabels") or {}, selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not isinstance(expressions, list):
        return False
    return _labels_match(match_labels, labels) and all(_expression_matches(item, labels) for item in expressions)


def _labels_match(wanted, labels):
    return all(labels.get(key, _ABSENT) == value for key, value in wanted.items())


def _expression_matches(expression, labels):
    if not isinstance(expression, dict):
        return False
    key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
    if not isinstance(key, str) or operator not in OPERATORS or not isinstance(values, list):
        return False
    if OPERATORS[operator] != bool(values):
        return False  # In and NotIn need values; Exists and DoesNotExist take none
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    return (key in labels) == (operator == "Exists")


_ABSENT = object()


TOLERATION_EFFECTS = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"}


def tolerates(toleration, taint):
    """Whether one toleration tolerates a taint, by the scheduler's rules.

    A toleration the API server would refuse tolerates nothing: an operator other than Equal or
    Exists (`exists` included), Exists with a value, or an unknown effect.
    """
    effect = toleration.get("effect") or ""
    operator = toleration.get("operator") or "Equal"
    key, value = toleration.get("key") or "", toleration.get("value") or ""
    if effect not in TOLERATION_EFFECTS or operator not in ("Equal", "Exists") or (operator == "Exists" and value):
        return False
    if effect and effect != taint.get("effect"):
        return False
    if operator == "Exists":
        return not key or key == taint.get("key")
    return key == taint.get("key") and value == (taint.get("value") or "")


def describe_labels(labels):
    """Labels as `key=value`, each cut short: a label key may be long, and a report shows a few, not thousands."""
    if not isinstance(labels, dict):
        return "no labels"
    pairs = sorted(labels.items(), key=lambda item: (str(item[0]), str(item[1])))
    return listing([shortened(f"{key}={value}") for key, value in pairs], ", ") or "no labels"


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


def described(check_id, title, looks_for):
    """Say what a check looks for before it ever runs.

    The lab's description lists every check by its title and ``looks_for`` (a sentence for the learner,
    `code` in backticks), so what a learner reads before starting is the list that will be checked; a
    test holds every report's ids and titles to these.
    """

    def decorate(check):
        check.check_id, check.title, check.looks_for = check_id, title, looks_for
        return check

    return decorate


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
    return described(check_id, f"{kind} {name} exists", f"a {kind} named `{name}` in your namespace")(check)


def requires(kind, name, check_id, title, *, teaches, looks_for, hint=None, required=True):
    """Decorate a check that reads one object: when it is missing, answer that instead of checking.

    The decorated function receives the object: ``check(snapshot, found)``. ``looks_for`` says, for the
    lab's description, what the check wants to find (see ``described``).
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

        return described(check_id, title, looks_for)(run)

    return decorate
