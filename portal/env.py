"""Settings read from the environment: a value of the wrong kind stops the start with its name and what
it should look like, never a traceback (the settings and the gunicorn config both read them here)."""

import json
import math
import os


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _stop(message):
    return SystemExit(f"Kube Journeys will not start: {message}")


def env_json(name, default, *, shape=None):
    """A setting given as JSON; ``shape(value)`` returns what is wrong with a parsed value, if anything."""
    raw = os.environ.get(name) or default
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as error:
        reason = "it is nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise _stop(f"{name} must be JSON, such as {default} ({reason}).") from None
    problem = shape(value) if shape is not None else ""
    if problem:
        raise _stop(f"{name} {problem}, such as {default}.")
    return value


def quantities(value):
    """What is wrong with a ResourceQuota's spec.hard given as JSON: a non-empty object of quantities."""
    if not isinstance(value, dict) or not value:
        return "must be a JSON object of at least one resource and its quantity"
    for key, quantity in value.items():
        if isinstance(quantity, bool) or not isinstance(quantity, (str, int, float)):
            return f'must give each resource a quantity ("{key}" has {json.dumps(quantity)[:40]})'
    return ""


def limit_entries(value):
    """What is wrong with a LimitRange's Container entry given as JSON: an object of objects of quantities."""
    if not isinstance(value, dict) or not value:
        return "must be a JSON object such as default, defaultRequest or max, each with quantities"
    for key, entry in value.items():
        if quantities(entry):
            return f'must give "{key}" an object of resources and quantities'
    return ""


def env_int(name, default, *, minimum=None, maximum=None):
    return _env_number(name, default, int, "a whole number", minimum, maximum)


def env_float(name, default, *, minimum=None, maximum=None):
    return _env_number(name, default, float, "a number of seconds", minimum, maximum)


def _env_number(name, default, kind, what, minimum, maximum):
    """A number setting; one that is not a number, or out of its range, stops the start with its name."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return kind(default)
    try:
        value = kind(raw.strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value):
        raise _stop(f"{name} must be {what}, such as {default}, not {raw!r}.")
    if minimum is not None and value < minimum:
        raise _stop(f"{name} must be at least {minimum}, not {raw!r}.")
    if maximum is not None and value > maximum:
        raise _stop(f"{name} may be at most {maximum}, not {raw!r}.")
    return value


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
