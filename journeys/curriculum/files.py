"""Read and validate the curriculum files, without touching the database.

Layout of a content directory::

    glossary.yaml                       terms shared by every journey
    <journey-slug>/journey.yaml         the journey and its modules, in order
    <journey-slug>/NN-<lesson>.md       one lesson: YAML front matter, then Markdown

Every problem is reported with the file, the line and what to do about it, and all problems are
collected before anything is written, so a broken curriculum is never half imported.
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..content_rules import docs_url_problem, kubernetes_version_problem
from ..quizzes.files import FINAL_ASSESSMENT_FILE, QUIZ_SUFFIX, read_quiz
from .markdown import RENDERING_VERSION, GlossaryEntry, find_references, normalize_source, render_markdown

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HEADING_ID = re.compile(r'<h[1-6][^>]* id="([^"]+)"')
FRONT_MATTER_FENCE = "---"
GLOSSARY_FILE = "glossary.yaml"
JOURNEY_FILE = "journey.yaml"


@dataclass(frozen=True)
class ContentError:
    path: str
    line: int
    message: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.message}"


class CurriculumError(Exception):
    def __init__(self, errors):
        self.errors = sorted(errors, key=lambda error: (error.path, error.line))
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass
class TermFile:
    slug: str
    term: str
    definition: str
    docs_url: str = ""


@dataclass
class ModuleFile:
    slug: str
    title: str
    summary: str
    order: int


@dataclass
class LessonFile:
    source: str
    slug: str
    title: str
    module: str
    minutes: int
    summary: str
    objectives: list
    takeaways: list
    order: int
    published: bool
    body: str
    display: str = ""
    body_line: int = 1
    # Front-matter key → line in the file, so cross-file problems point at the right line.
    key_lines: dict = field(default_factory=dict)
    quiz: object = None
    body_html: str = ""
    toc: list = field(default_factory=list)
    text: str = ""


@dataclass
class JourneyFile:
    source: str
    slug: str
    title: str
    summary: str
    description: str
    order: int
    published: bool
    modules: list
    lessons: list
    kubernetes_version: str = ""
    final_assessment: object = None


@dataclass
class Curriculum:
    journeys: list
    glossary: list
    # Relative file path → SHA-256 of its bytes, for skipping files that did not change.
    checksums: dict


# --- YAML with line numbers ---


class _LineMap(dict):
    """A mapping that remembers the line of each key, for error messages."""

    line = 1
    key_lines = None

    def line_of(self, key):
        return (self.key_lines or {}).get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_line_map(loader, node):
    loader.flatten_mapping(node)
    mapping = _LineMap()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} appears twice; keep one", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_line_map)


class YamlFileReader:
    """Collects errors for one file while its parts are parsed."""

    def __init__(self, path, display_path, errors, line_offset=0):
        self.path = path
        self.display_path = display_path
        self.errors = errors
        self.line_offset = line_offset

    def error(self, line, message):
        self.errors.append(ContentError(self.display_path, line + self.line_offset, message))

    def parse_yaml(self, text):
        try:
            return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 1
            self.error(line, f"this is not valid YAML: {exc.problem or exc}")
        except yaml.YAMLError as exc:
            self.error(1, f"this is not valid YAML: {exc}")
        return None

    def fields(self, mapping, schema, what):
        """Check ``mapping`` against ``schema`` ({key: (kind, required, default)}); return clean values."""
        if not isinstance(mapping, dict):
            line = getattr(mapping, "line", 1)
            self.error(line, f"{what} must be a mapping of keys to values")
            return None
        clean = {}
        for key in mapping:
            if key not in schema:
                allowed = ", ".join(schema)
                self.error(mapping.line_of(key), f"unknown key {key!r} in {what} (allowed keys: {allowed})")
        for key, (kind, required, default) in schema.items():
            if key not in mapping or mapping[key] is None:
                if required:
                    self.error(mapping.line, f"{what} is missing the required key {key!r}")
                clean[key] = default
                continue
            value, problem = _coerce(kind, mapping[key])
            if problem:
                self.error(mapping.line_of(key), f"{key!r} {problem}")
            clean[key] = value
        return clean


def _coerce(kind, value):
    """Return (value, problem) for one field; problem is None when the value is acceptable."""
    if kind in ("str", "slug", "text"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return "", "must be text"
        value = value.strip()
        if kind != "text" and not value:
            return value, "must not be empty"
        if kind == "slug" and not SLUG_PATTERN.match(value):
            return value, f"must be a slug (lowercase letters, digits and single hyphens), not {value!r}"
        return value, None
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return 0, f"must be a whole number of 0 or more, not {value!r}"
        # Orders and minutes: far below what any database column holds, far above any real value.
        # ("number" is bounded by the rules of what holds it.)
        if kind == "int" and value > MAX_WHOLE_NUMBER:
            return 0, f"must be a whole number from 0 to {MAX_WHOLE_NUMBER}, not {value!r}"
        return value, None
    if kind == "bool":
        if not isinstance(value, bool):
            return True, f"must be true or false, not {value!r}"
        return value, None
    if kind == "strlist":
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            return [], "must be a list of non-empty text items"
        return [item.strip() for item in value], None
    if kind == "list":
        if not isinstance(value, list):
            return [], "must be a list"
        return value, None
    if kind == "version":
        problem = kubernetes_version_problem(value)
        return ("" if problem else value.strip()), problem
    if kind == "docs_url":
        problem = docs_url_problem(value)
        return ("" if problem else value.strip()), problem
    raise ValueError(kind)


MAX_WHOLE_NUMBER = 10_000

JOURNEY_SCHEMA = {
    "slug": ("slug", True, ""),
    "title": ("str", True, ""),
    "summary": ("text", False, ""),
    "description": ("text", False, ""),
    "order": ("int", False, 0),
    "published": ("bool", False, True),
    # The Kubernetes release whose documentation the lessons were checked against, e.g. "1.34".
    "kubernetes_version": ("version", False, ""),
    "modules": ("list", True, []),
}
MODULE_SCHEMA = {
    "slug": ("slug", True, ""),
    "title": ("str", True, ""),
    "summary": ("text", False, ""),
    "order": ("int", False, None),
}
LESSON_SCHEMA = {
    "title": ("str", True, ""),
    "slug": ("slug", True, ""),
    "module": ("slug", True, ""),
    "minutes": ("int", False, 10),
    "summary": ("text", False, ""),
    "objectives": ("strlist", False, []),
    "takeaways": ("strlist", False, []),
    "order": ("int", False, None),
    "published": ("bool", False, True),
}
TERM_SCHEMA = {
    "slug": ("slug", True, ""),
    "term": ("str", True, ""),
    "definition": ("str", True, ""),
    # The page of the official documentation about the term (kubernetes.io, or helm.sh for Helm).
    "docs_url": ("docs_url", False, ""),
}


# --- Files ---


def _display(path):
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


def _read_text(path, errors):
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(ContentError(_display(path), 1, f"the file is not UTF-8 text ({exc.reason})"))
    except OSError as exc:
        errors.append(ContentError(_display(path), 1, f"the file cannot be read ({exc.strerror})"))
    return None


def split_front_matter(text):
    """Return (front matter, body, line where the body starts) or raise ValueError with a reason."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ValueError("a lesson must start with front matter: a line '---', YAML keys, then '---'")
    for index in range(1, len(lines)):
        if lines[index].strip() == FRONT_MATTER_FENCE:
            front = "\n".join(lines[1:index])
            body_lines = lines[index + 1 :]
            skipped = 0
            while skipped < len(body_lines) and not body_lines[skipped].strip():
                skipped += 1
            body = normalize_source("\n".join(body_lines[skipped:]))
            return front, body, index + 2 + skipped
    raise ValueError("the front matter is never closed: add a line '---' after its last key")


def _read_glossary(path, errors):
    text = _read_text(path, errors)
    if text is None:
        return []
    reader = YamlFileReader(path, _display(path), errors)
    data = reader.parse_yaml(text)
    if data is None:
        return []
    top = reader.fields(data, {"terms": ("list", True, [])}, "the glossary")
    terms, seen = [], {}
    for item in (top or {}).get("terms", []):
        values = reader.fields(item, TERM_SCHEMA, "a glossary term")
        if not values:
            continue
        if values["slug"] in seen:
            reader.error(
                item.line, f"the glossary slug {values['slug']!r} is already used on line {seen[values['slug']]}"
            )
            continue
        seen[values["slug"]] = item.line
        terms.append(TermFile(**values))
    return terms


def _read_journey(directory, content_dir, errors):
    path = directory / JOURNEY_FILE
    text = _read_text(path, errors)
    if text is None:
        return None
    reader = YamlFileReader(path, _display(path), errors)
    data = reader.parse_yaml(text)
    if data is None:
        return None
    values = reader.fields(data, JOURNEY_SCHEMA, "journey.yaml")
    if values is None:
        return None
    modules, seen = [], {}
    for position, item in enumerate(values.pop("modules"), start=1):
        module = reader.fields(item, MODULE_SCHEMA, "a module")
        if not module:
            continue
        if module["slug"] in seen:
            reader.error(
                item.line, f"the module slug {module['slug']!r} is already used on line {seen[module['slug']]}"
            )
            continue
        seen[module["slug"]] = item.line
        module["order"] = position if module["order"] is None else module["order"]
        modules.append(ModuleFile(**module))
    if not modules:
        reader.error(data.line_of("modules"), "a journey needs at least one module under 'modules'")
    source = path.relative_to(content_dir).as_posix()
    return JourneyFile(source=source, modules=modules, lessons=[], **values)


def _read_lesson(path, content_dir, errors):
    text = _read_text(path, errors)
    if text is None:
        return None
    display = _display(path)
    try:
        front, body, body_line = split_front_matter(text)
    except ValueError as exc:
        errors.append(ContentError(display, 1, str(exc)))
        return None
    reader = YamlFileReader(path, display, errors, line_offset=1)
    data = reader.parse_yaml(front) if front.strip() else None
    if data is None:
        if not front.strip():
            errors.append(
                ContentError(display, 2, "the front matter is empty: it needs at least title, slug and module")
            )
        return None
    values = reader.fields(data, LESSON_SCHEMA, "the front matter")
    if values is None:
        return None
    if not body.strip():
        errors.append(ContentError(display, body_line, "the lesson has no text after its front matter"))
    source = path.relative_to(content_dir).as_posix()
    key_lines = {key: data.line_of(key) + 1 for key in LESSON_SCHEMA}
    quiz_path = path.with_name(path.stem + QUIZ_SUFFIX)
    quiz = _read_quiz_file(quiz_path, content_dir, errors, final=False) if quiz_path.exists() else None
    return LessonFile(
        source=source, body=body, display=display, body_line=body_line, key_lines=key_lines, quiz=quiz, **values
    )


def _read_quiz_file(path, content_dir, errors, *, final):
    text = _read_text(path, errors)
    if text is None:
        return None
    reader = YamlFileReader(path, _display(path), errors)
    data = reader.parse_yaml(text)
    if data is None:
        if not text.strip():
            reader.error(1, "the quiz file is empty")
        return None
    return read_quiz(reader, data, path.relative_to(content_dir).as_posix(), final=final)


def quiz_text_errors(text, display_path, *, final):
    """The file check's errors for the text of one quiz file (export checks what it is about to write)."""
    errors = []
    reader = YamlFileReader(None, display_path, errors)
    data = reader.parse_yaml(text)
    if data is not None:
        read_quiz(reader, data, display_path, final=final)
    elif not errors:
        reader.error(1, "the quiz file is empty")
    return errors


def _check_journey_lessons(journey, glossary_slugs, errors, *, every_lesson_read):
    """Cross-file rules: unique slugs, known modules, and links that lead somewhere.

    When a lesson file could not be read, links to it are not reported: its own error is the
    one to fix, and a list of follow-on errors would hide it.
    """
    module_slugs = {module.slug for module in journey.modules}
    by_slug = {}
    for lesson in journey.lessons:
        if lesson.slug in by_slug:
            errors.append(
                ContentError(
                    lesson.display,
                    lesson.key_lines["slug"],
                    f"the lesson slug {lesson.slug!r} is already used by {by_slug[lesson.slug].display}",
                )
            )
        else:
            by_slug[lesson.slug] = lesson
        if lesson.module and lesson.module not in module_slugs:
            known = ", ".join(sorted(module_slugs))
            errors.append(
                ContentError(
                    lesson.display,
                    lesson.key_lines["module"],
                    f"the module {lesson.module!r} is not listed in journey.yaml (known modules: {known})",
                )
            )

    positions = {}
    for lesson in journey.lessons:
        positions[lesson.module] = positions.get(lesson.module, 0) + 1
        if lesson.order is None:
            lesson.order = positions[lesson.module]

    anchors = {}
    for lesson in journey.lessons:
        rendered = render_markdown(lesson.body, journey_slug=journey.slug, glossary=glossary_slugs, known_lessons=None)
        lesson.body_html, lesson.toc, lesson.text = rendered.html, rendered.toc, rendered.text
        anchors[lesson.slug] = set(HEADING_ID.findall(rendered.html))

    for lesson in journey.lessons:
        for reference in find_references(lesson.body):
            line = lesson.body_line + reference.line - 1
            if reference.kind == "glossary" and reference.slug not in glossary_slugs:
                errors.append(
                    ContentError(
                        lesson.display,
                        line,
                        f"the glossary term {reference.slug!r} does not exist; add it to glossary.yaml or fix the slug",
                    )
                )
            elif reference.kind == "lesson" and reference.slug not in by_slug:
                if not every_lesson_read:
                    continue
                errors.append(
                    ContentError(
                        lesson.display,
                        line,
                        f"the link points to a lesson {reference.slug!r} that does not exist in this journey",
                    )
                )
            elif (
                reference.kind == "lesson"
                and reference.anchor
                and reference.anchor not in anchors.get(reference.slug, set())
            ):
                errors.append(
                    ContentError(
                        lesson.display,
                        line,
                        f"the lesson {reference.slug!r} has no section with the anchor #{reference.anchor}",
                    )
                )


def read_curriculum(content_dir):
    """Parse and validate every curriculum file below ``content_dir``; raise CurriculumError on any problem."""
    content_dir = Path(content_dir)
    errors = []
    if not content_dir.is_dir():
        raise CurriculumError([ContentError(_display(content_dir), 0, "this content directory does not exist")])

    glossary_path = content_dir / GLOSSARY_FILE
    glossary = _read_glossary(glossary_path, errors) if glossary_path.exists() else []
    glossary_entries = {term.slug: GlossaryEntry(term.slug, term.term, term.definition) for term in glossary}

    journeys, journey_sources = [], {}
    for directory in sorted(path for path in content_dir.iterdir() if path.is_dir()):
        lesson_paths = sorted(path for path in directory.glob("*.md") if path.name.lower() != "readme.md")
        if not (directory / JOURNEY_FILE).exists():
            if lesson_paths:
                errors.append(ContentError(_display(directory), 0, "this folder holds lessons but no journey.yaml"))
            continue
        journey = _read_journey(directory, content_dir, errors)
        if journey is None:
            continue
        if journey.slug in journey_sources:
            errors.append(
                ContentError(
                    _display(directory / JOURNEY_FILE),
                    1,
                    f"the journey slug {journey.slug!r} is already used by {journey_sources[journey.slug]}",
                )
            )
            continue
        journey_sources[journey.slug] = journey.source
        journey.lessons = [lesson for path in lesson_paths if (lesson := _read_lesson(path, content_dir, errors))]
        every_lesson_read = len(journey.lessons) == len(lesson_paths)
        lesson_stems = {path.stem for path in lesson_paths}
        for quiz_path in sorted(directory.glob(f"*{QUIZ_SUFFIX}")):
            if quiz_path.name.removesuffix(QUIZ_SUFFIX) not in lesson_stems:
                message = f"no lesson {quiz_path.name.removesuffix(QUIZ_SUFFIX)}.md sits beside this quiz file"
                errors.append(ContentError(_display(quiz_path), 1, message))
        final_path = directory / FINAL_ASSESSMENT_FILE
        if final_path.exists():
            journey.final_assessment = _read_quiz_file(final_path, content_dir, errors, final=True)
        _check_journey_lessons(journey, glossary_entries, errors, every_lesson_read=every_lesson_read)
        journeys.append(journey)

    if not journeys and not errors:
        errors.append(ContentError(_display(content_dir), 0, "no journey found: expected <journey>/journey.yaml"))
    if errors:
        raise CurriculumError(errors)

    checksums = {
        path.relative_to(content_dir).as_posix(): _checksum(path)
        for path in sorted(content_dir.rglob("*"))
        if path.is_file() and path.suffix in {".md", ".yaml"}
    }
    return Curriculum(journeys=journeys, glossary=glossary, checksums=checksums)


def _checksum(path):
    """What the loader compares to tell a changed file; for a lesson, how it is rendered counts too."""
    salt = f"rendering {RENDERING_VERSION}\n".encode() if path.suffix == ".md" else b""
    return hashlib.sha256(salt + path.read_bytes()).hexdigest()
