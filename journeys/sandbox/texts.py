"""The texts of a lab panel: its task, the broken manifest a break-and-fix lab starts from, the reference solution.

Each lab is described once. The task is Markdown in ``journeys/sandbox/tasks/<slug>.md``; the list of what
will be checked comes from the lab's checks (see ``Lab.checked``); the starting manifest and the reference
solution are files beside them. They are read and rendered once per process, the way lessons are rendered
when they are loaded, so a page view never runs Markdown or highlighting.
"""

from functools import cache

from ..curriculum.markdown import render_markdown


def _read(path):
    return path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""


@cache
def task_html(lab, journey_slug):
    """The lab's task as sanitized HTML; ``lesson:`` links resolve within ``journey_slug``."""
    return render_markdown(_read(lab.task_path), journey_slug=journey_slug).html


@cache
def solution_text(lab):
    return _read(lab.solution_path)


@cache
def starting_text(lab):
    return _read(lab.starting_path)


def _code_block(text, language):
    # The same highlighting as a lesson's code blocks, so the copy button and the colours come with it.
    fence = "````" if "```" in text else "```"
    return render_markdown(f"{fence}{language}\n{text.rstrip()}\n{fence}").html if text else ""


@cache
def solution_html(lab):
    return _code_block(solution_text(lab), "shell" if lab.solution_file.endswith(".sh") else "yaml")


@cache
def starting_html(lab):
    return _code_block(starting_text(lab), "yaml")
