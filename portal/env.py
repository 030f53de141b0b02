"""Settings read from the environment: a value of the wrong kind stops the start with its name and what
it should look like, never a traceback (the settings and the gunicorn config both read them here)."""

import json
import os


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_json(name, default):
    """A setting given as JSON; a value that is not JSON stops the start with its name, not a traceback."""
    raw = os.environ.get(name) or default
    try:
        return json.loads(raw)
    except ValueError as error:
        raise SystemExit(f"Kube Journeys will not start: {name} must be JSON, such as {default} ({error}).") from None


def env_int(name, default, *, maximum=None):
    return _env_number(name, default, int, "a whole number, such as", maximum)


def env_float(name, default):
    return _env_number(name, default, float, "a number of seconds, such as", None)


def _env_number(name, default, kind, what, maximum):
    """A number setting; a value that is not one (or too large) stops the start with its name, not a traceback."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return kind(default)
    try:
        value = kind(raw.strip())
    except ValueError:
        raise SystemExit(f"Kube Journeys will not start: {name} must be {what} {default}, not {raw!r}.") from None
    if value != value or value in (float("inf"), float("-inf")):  # nan and inf parse as floats
        raise SystemExit(f"Kube Journeys will not start: {name} must be {what} {default}, not {raw!r}.")
    if maximum is not None and value > maximum:
        raise SystemExit(f"Kube Journeys will not start: {name} may be at most {maximum}, not {raw!r}.")
    return value


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
