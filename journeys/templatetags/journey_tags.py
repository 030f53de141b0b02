import re

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

INLINE_CODE = re.compile(r"`([^`]+)`")


@register.filter
def inline_code(text):
    """Plain text with `backticks` shown as code: choices and steps are written that way by authors."""
    return mark_safe(INLINE_CODE.sub(r"<code>\1</code>", escape(text)))  # noqa: S308 - escaped first


@register.filter
def message_lines(text):
    """A message of several lines as HTML: sentences as paragraphs, "- " lines as a list, `code` as code.

    The first paragraph is left open-ended (no <p>) so a template can put a lead-in before it.
    """
    blocks, items = [], []
    for line in str(text).splitlines():
        if line.startswith("- "):
            items.append(f"<li>{inline_code(line[2:])}</li>")
            continue
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            blocks.append(f"<p>{inline_code(line)}</p>")
    if items:
        blocks.append("<ul>" + "".join(items) + "</ul>")
    return mark_safe("".join(blocks))  # noqa: S308 - every piece was escaped by inline_code


@register.filter
def percent(fraction):
    return f"{round(float(fraction) * 100)}%"


@register.filter
def duration(delta):
    """A learner-friendly length of time: "45 s", "3 min", "1 h 5 min"."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@register.filter
def ago(moment):
    """How long ago ``moment`` was, as a person says it: "just now", "a minute ago", "3 hours ago".

    Never "0 minutes ago"; a moment a little in the future (another server's clock) is "just now".
    """
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 60:
        return "just now"
    for unit, one, many in AGO_UNITS:
        count = int(seconds // unit)
        if count < AGO_UNITS_UP_TO[unit]:
            return f"{one} ago" if count == 1 else f"{count} {many} ago"
    return date_format(timezone.localtime(moment), "j M Y")


# (seconds in the unit, one of it, several); each is used below AGO_UNITS_UP_TO of it.
AGO_UNITS = [(60, "a minute", "minutes"), (3600, "an hour", "hours"), (86400, "a day", "days")]
AGO_UNITS_UP_TO = {60: 60, 3600: 24, 86400: 30}


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def teaches_url(reference, lesson):
    """ "lesson-slug#anchor" → the URL of that section in the same journey as ``lesson``."""
    from journeys.curriculum.markdown import lesson_url

    slug, _, anchor = str(reference).partition("#")
    url = lesson_url(lesson.journey.slug, slug)
    return f"{url}#{anchor}" if anchor else url


@register.filter
def reading_time(minutes):
    """Minutes of study as a person says them: "45 min", "2 h", "3 h 20 min"."""
    minutes = max(int(minutes or 0), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"
