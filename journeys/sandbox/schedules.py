"""Cron schedules compared by meaning, and said in words.

A schedule means what the Kubernetes CronJob controller makes of it, and Kubernetes reads schedules
with the standard parser of robfig/cron (v3, `cron.ParseStandard`): five fields, minute 0-59, hour
0-23, day of month 1-31, month 1-12 or jan-dec, day of week 0-6 or sun-sat (7 is refused), each a
comma-separated list of `*`, `?`, `N`, `N-M`, `N/S`, `N-M/S` or `*/S`, or one of the descriptors
@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly and `@every <duration>`. This
module parses schedules by those rules itself: croniter, used before, reads `5-5` as `*`, accepts
7, `L`, `#` and reversed ranges, and cannot be told Kubernetes' day-of-month/day-of-week rule.

Day of month and day of week combine as in robfig/cron: when either field was written with a star
(`*` or `?`, without a step above 1), a day must match both; otherwise a day matching either runs
the job. So `0 2 1-31 * 1-5` runs every day, and `0 2 * * 1-5` on weekdays only.
"""

import re

from cron_descriptor import Options, get_description

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
WEEKDAYS = {name: number for number, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
# (name in messages, lowest, highest, names) for minute, hour, day of month, month, day of week.
FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day-of-month", 1, 31, {}),
    ("month", 1, 12, MONTHS),
    ("day-of-week", 0, 6, WEEKDAYS),
)
EVERY = "*"
NEVER = ((), ())
# The whitespace Go's strings.Fields splits on, as far as ASCII goes (Python's split() also splits on \x1c-\x1f).
WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
# strconv.Atoi: ASCII digits, an optional plus sign (a minus sign would already have split a range).
NUMBER = re.compile(r"\+?[0-9]+")
# Go's time.ParseDuration, in ASCII: "24h", "1h30m", "1.5h".
DURATION = re.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|ms|s|m|h))+|[-+]?0")
LONGEST = 1000
STAR_RANGE = re.compile(r"(?<![^ \t\n\v\f\r,])([*?])-[^,/ \t\n\v\f\r]*")


class ScheduleError(ValueError):
    """A schedule Kubernetes would refuse; ``reason`` says why in plain words, without the schedule."""

    def __init__(self, schedule, reason):
        shown = schedule if len(schedule) <= 60 else schedule[:59] + "…"
        super().__init__(f"{shown!r} is not a valid cron schedule: {reason}")
        self.reason = reason


def expand(schedule):
    """What a schedule means, as (minute, hour, day-of-month, month, day-of-week).

    Each field is a sorted tuple of values, or "*" when its values cover the whole range:
    `00 02 * * *`, `0-0 2-2 * * *` and `0 2 1-31 * 0-6` all expand to (0,), (2,), "*", "*", "*".
    Day of month and day of week are combined first (see the module's docstring): when the days
    that run come out the same, so do the two fields, and when both are tuples a day matching
    either runs the job. A schedule that never runs (a field of only commas selects nothing)
    expands to five empty tuples, an `@every` schedule to ("@every", duration). Raises
    ScheduleError, with a reason in plain words, for a schedule Kubernetes would refuse.
    """
    text = str(schedule)
    if not text.isascii():
        odd = next(character for character in text if not character.isascii())
        raise ScheduleError(
            text, f"it holds {odd!r}, which a schedule cannot: write numbers with the digits 0-9 and names such as mon"
        )
    if len(text) > LONGEST:
        raise ScheduleError(text, f"it is longer than {LONGEST:,} characters")
    if text.startswith("@"):
        return _descriptor(text)
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise ScheduleError(text, "Kubernetes does not take a time zone in the schedule: set spec.timeZone instead")
    parts = [part for part in WHITESPACE.split(text) if part]
    if len(parts) != 5:
        raise ScheduleError(
            text, f"it does not have the five fields minute hour day-of-month month day-of-week (found {len(parts)})"
        )
    fields, stars = zip(*(_field(part, *bounds, text) for part, bounds in zip(parts, FIELDS, strict=True)), strict=True)
    full = [len(values) == high - low + 1 for values, (_, low, high, _) in zip(fields, FIELDS, strict=True)]
    meaning = [EVERY if whole else tuple(sorted(values)) for values, whole in zip(fields, full, strict=True)]
    dom, dow = meaning[2], meaning[4]
    if stars[2] or stars[4]:
        # A day must match both fields, and one of them is every day: the other alone decides.
        days = NEVER if () in (dom, dow) else (dom, dow)
    elif EVERY in (dom, dow):
        days = (EVERY, EVERY)  # a day matching either field runs the job, and one field matches every day
    elif dom == () or dow == ():
        days = NEVER if dom == dow else ((EVERY, dow) if dom == () else (dom, EVERY))
    else:
        days = (dom, dow)  # both restricted: a day matching either runs the job
    if days == NEVER or () in (meaning[0], meaning[1], meaning[3]):
        return ((),) * 5  # a field selects nothing (`,`): Kubernetes takes the schedule, and it never runs
    meaning[2], meaning[4] = days
    return tuple(meaning)


def _descriptor(text):
    if text in MACROS:
        return expand(MACROS[text])
    if text.startswith("@every "):
        duration = text.removeprefix("@every ")
        if DURATION.fullmatch(duration):
            return ("@every", duration)
        raise ScheduleError(text, f"{duration!r} is not a duration such as 24h or 1h30m")
    raise ScheduleError(text, "the descriptors are @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly "
                        "and @every with a duration")  # fmt: skip


def _field(part, name, low, high, names, text):
    """The set of values one field selects, and whether it was written with a star (robfig/cron's starBit)."""
    values, star = set(), False
    # Go's strings.FieldsFunc: empty items between commas are skipped, and an all-comma field selects nothing.
    for item in (item for item in part.split(",") if item):
        range_and_step = item.split("/")
        if len(range_and_step) > 2:
            raise ScheduleError(text, f"the {name} field has more than one / in {item!r}")
        low_and_high = range_and_step[0].split("-")
        if low_and_high[0] in ("*", "?"):
            # Like robfig/cron, whatever follows a star before any / is ignored: `*-5` is `*`.
            start, end, item_star = low, high, True
        else:
            if len(low_and_high) > 2:
                raise ScheduleError(text, f"the {name} field has more than one - in {item!r}")
            start = _number(low_and_high[0], name, names, text)
            end = _number(low_and_high[1], name, names, text) if len(low_and_high) == 2 else start
            item_star = False
        step = 1
        if len(range_and_step) == 2:
            step = _number(range_and_step[1], name, {}, text)
            if len(low_and_high) == 1:
                end = high  # `N/S` means from N to the end of the range
            if step > 1:
                item_star = False
        _within(start, end, item, name, low, high, text)
        if step == 0:
            raise ScheduleError(text, f"the step in {item!r} must be at least 1")
        values.update(range(start, end + 1, step))
        star = star or item_star
    return values, star


def _number(token, name, names, text):
    if token.lower() in names:
        return names[token.lower()]
    if not NUMBER.fullmatch(token):
        allowed = f" or a name such as {next(iter(names))}" if names else ""
        raise ScheduleError(text, f"the {name} field needs a number{allowed}, found {token!r}")
    if len(token) > 19:
        raise ScheduleError(text, f"the number {token[:19]}… in the {name} field is far too large")
    return int(token)


def _within(start, end, item, name, low, high, text):
    outside = [value for value in (start, end) if not low <= value <= high]
    if outside:
        sunday = ""
        if name == "day-of-week" and 7 in outside:
            sunday = "; Kubernetes counts Sunday as 0, never 7: use 0 for Sunday"
        raise ScheduleError(text, f"the {name} field runs from {low} to {high}, found {outside[0]} in {item!r}{sunday}")
    if start > end:
        raise ScheduleError(text, f"the range {item!r} in the {name} field starts after it ends ({start} > {end})")


def same_schedule(left, right):
    try:
        return expand(left) == expand(right)
    except ScheduleError:
        return False


def describe(schedule):
    """A schedule in plain words, e.g. "every day at 02:00"; one Kubernetes would refuse says why instead."""
    try:
        meaning = expand(schedule)
    except ScheduleError as exc:
        return f"not a valid schedule: {exc.reason}"
    text = str(schedule)
    if meaning == ((),) * 5:
        return "never: a field names no value, so no minute matches"
    if meaning[0] == "@every":
        return f"every {meaning[1]}, at a fixed interval rather than at a set time of day"
    minutes, hours, rest = meaning[0], meaning[1], meaning[2:]
    if rest == (EVERY, EVERY, EVERY) and minutes != EVERY and hours != EVERY and len(minutes) == len(hours) == 1:
        return f"every day at {hours[0]:02d}:{minutes[0]:02d}"
    # The describer hears the schedule as robfig/cron reads it: no empty items between commas, and nothing
    # after a star before any / (`*-5` is `*`). Only text the parser above accepted reaches it.
    parts = [",".join(item for item in part.split(",") if item) for part in WHITESPACE.split(MACROS.get(text, text))]
    spoken = STAR_RANGE.sub(r"\1", " ".join(part for part in parts if part))
    options = Options()
    options.use_24hour_time_format = True
    try:
        words = get_description(spoken, options)
        return words[:1].lower() + words[1:]
    except Exception:  # noqa: BLE001 - the describer raises many types; words are a nicety
        return text
