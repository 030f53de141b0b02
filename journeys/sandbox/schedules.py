"""Cron schedules compared by meaning, and said in words."""

from cron_descriptor import Options, get_description
from croniter import croniter
from croniter.croniter import CroniterError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class ScheduleError(ValueError):
    pass


def expand(schedule):
    """The five fields as sets of values: `00 02 * * *` and `0 2 * * *` expand the same."""
    text = MACROS.get(str(schedule).strip(), str(schedule).strip())
    if len(text.split()) != 5:
        raise ScheduleError(f"{schedule!r} does not have the five fields minute hour day-of-month month day-of-week")
    try:
        fields, _ = croniter.expand(text)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ScheduleError(f"{schedule!r} is not a valid cron schedule ({exc})") from None
    # Day-of-week 7 is Sunday like 0.
    fields = [
        sorted({0 if (index == 4 and value == 7) else value for value in field}, key=str)
        for index, field in enumerate(fields)
    ]
    return tuple(tuple(field) for field in fields)


def same_schedule(left, right):
    try:
        return expand(left) == expand(right)
    except ScheduleError:
        return False


def describe(schedule):
    """A schedule in plain words, e.g. "every day at 02:00"."""
    text = MACROS.get(str(schedule).strip(), str(schedule).strip())
    parts = text.split()
    if len(parts) == 5 and parts[2:] == ["*", "*", "*"] and parts[0].isdigit() and parts[1].isdigit():
        return f"every day at {int(parts[1]):02d}:{int(parts[0]):02d}"
    options = Options()
    options.use_24hour_time_format = True
    try:
        words = get_description(text, options)
        return words[:1].lower() + words[1:]
    except Exception:  # noqa: BLE001 - the describer raises many types; words are a nicety
        return text
