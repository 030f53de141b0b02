"""Curriculum files → database, and back.

Loading is idempotent and all-or-nothing: the files are validated in full first
(``curriculum.files.read_curriculum``), then written in one transaction, and a row is saved only when
a value really differs. A file whose checksum matches the one recorded at its last load is skipped,
so edits made in Django admin survive a restart until the file itself changes (``force`` loads
every file regardless).
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import DatabaseError, transaction

from ..models import Choice, ContentSource, GlossaryTerm, Journey, Lesson, Module, Question, Quiz
from ..quizzes.files import FINAL_ASSESSMENT_FILE, QUIZ_SUFFIX, quiz_to_file_data
from ..quizzes.rules import stored_quiz_problems
from .files import quiz_text_errors

# What Lesson.render() computes from the Markdown body: stored together, never one without the others.
RENDERED_FIELDS = ["body_html", "toc", "search_text", "search_stems", "search_vocabulary"]


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_files: int = 0
    database_only_lessons: list = field(default_factory=list)

    @property
    def changed(self):
        return self.created + self.updated


class LoadError(Exception):
    """The database refused what one curriculum file holds: ``source`` (relative to the content
    directory, or "" when no one file is at fault) and ``error``, the database's exception."""

    def __init__(self, source, error):
        super().__init__(f"{source or 'the curriculum'}: {error}")
        self.source = source
        self.error = error


@contextmanager
def _from(source):
    """Name the file being written when the database refuses it (the whole load is rolled back)."""
    try:
        yield
    except DatabaseError as exc:
        raise LoadError(source, exc) from exc


def _upsert(report, model, lookup, values, **save_options):
    """Create or update one row, saving only if a value differs. Return the row."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        instance.save(**save_options)
        report.created += 1
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        report.unchanged += 1
        return instance
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(**save_options)
    report.updated += 1
    return instance


def _lesson_values(lesson_file, module):
    return {
        "module": module,
        "title": lesson_file.title,
        "summary": lesson_file.summary,
        "minutes": lesson_file.minutes,
        "objectives": lesson_file.objectives,
        "takeaways": lesson_file.takeaways,
        "order": lesson_file.order,
        "is_published": lesson_file.published,
        "body": lesson_file.body,
    }


def load_curriculum(curriculum, *, force=False):
    """Write a validated Curriculum to the database in one transaction; return a LoadReport.

    A database error is raised as a ``LoadError`` naming the file it came from, when one did.
    """
    report = LoadReport()
    with _from(""):
        recorded = dict(ContentSource.objects.values_list("path", "sha256"))

    def changed(source):
        return force or recorded.get(source) != curriculum.checksums.get(source)

    glossary_changed = changed("glossary.yaml") and "glossary.yaml" in curriculum.checksums
    with _from(""), transaction.atomic():
        with _from("glossary.yaml"):
            if glossary_changed:
                for term in curriculum.glossary:
                    _upsert(
                        report,
                        GlossaryTerm,
                        {"slug": term.slug},
                        {"term": term.term, "definition": term.definition, "docs_url": term.docs_url},
                    )
                kept = [term.slug for term in curriculum.glossary]
                GlossaryTerm.objects.exclude(slug__in=kept).delete()
            glossary = GlossaryTerm.objects.as_entries()

        for journey_file in curriculum.journeys:
            _load_journey(report, journey_file, changed, glossary, rerender=glossary_changed)

        for source, checksum in curriculum.checksums.items():
            with _from(source):
                ContentSource.objects.update_or_create(path=source, defaults={"sha256": checksum})
    return report


def _load_journey(report, journey_file, changed, glossary, *, rerender):
    with _from(journey_file.source):
        journey, modules = _load_journey_and_modules(report, journey_file, changed)
    known_lessons = {lesson.slug for lesson in journey_file.lessons} | set(
        journey.lessons.values_list("slug", flat=True)
    )
    for lesson_file in journey_file.lessons:
        lookup = {"journey": journey, "slug": lesson_file.slug}
        with _from(lesson_file.source):
            if not changed(lesson_file.source) and Lesson.objects.filter(**lookup).exists():
                report.skipped_files += 1
                continue
            values = _lesson_values(lesson_file, modules[lesson_file.module])
            draft = Lesson(**lookup, **values)
            draft.render(glossary=glossary, known_lessons=known_lessons)
            values.update({name: getattr(draft, name) for name in RENDERED_FIELDS})
            _upsert(report, Lesson, lookup, values, render=False)

    for lesson_file in journey_file.lessons:
        quiz_file = lesson_file.quiz
        if quiz_file is None:
            continue
        with _from(quiz_file.source):
            lesson = Lesson.objects.get(journey=journey, slug=lesson_file.slug)
            if changed(quiz_file.source) or not Quiz.objects.filter(lesson=lesson).exists():
                _load_quiz(report, quiz_file, {"lesson": lesson}, {"journey": journey})
    final_file = journey_file.final_assessment
    if final_file is not None:
        lookup = {"journey": journey, "is_final": True}
        with _from(final_file.source):
            if changed(final_file.source) or not Quiz.objects.filter(**lookup).exists():
                _load_quiz(report, final_file, lookup, {})

    if rerender:
        # A changed definition lives inside the stored HTML of every lesson that shows it.
        for lesson in journey.lessons.select_related("journey"):
            before = lesson.body_html
            lesson.render(glossary=glossary, known_lessons=known_lessons)
            if lesson.body_html != before:
                lesson.save(render=False, update_fields=[*RENDERED_FIELDS, "updated_at"])

    file_slugs = {lesson.slug for lesson in journey_file.lessons}
    report.database_only_lessons += [
        f"{journey.slug}/{slug}" for slug in journey.lessons.exclude(slug__in=file_slugs).values_list("slug", flat=True)
    ]


def _load_journey_and_modules(report, journey_file, changed):
    journey = Journey.objects.filter(slug=journey_file.slug).first()
    apply_journey = journey is None or changed(journey_file.source)
    if apply_journey:
        journey = _upsert(
            report,
            Journey,
            {"slug": journey_file.slug},
            {
                "title": journey_file.title,
                "summary": journey_file.summary,
                "description": journey_file.description,
                "kubernetes_version": journey_file.kubernetes_version,
                "order": journey_file.order,
                "is_published": journey_file.published,
            },
        )
    modules = {module.slug: module for module in journey.modules.all()}
    for module_file in journey_file.modules:
        if apply_journey or module_file.slug not in modules:
            modules[module_file.slug] = _upsert(
                report,
                Module,
                {"journey": journey, "slug": module_file.slug},
                {"title": module_file.title, "summary": module_file.summary, "order": module_file.order},
            )
    return journey, modules


def _load_quiz(report, quiz_file, lookup, extra):
    """Update a quiz in place, question by question, so learners' answers to unchanged questions stay linked."""
    quiz = _upsert(
        report,
        Quiz,
        lookup,
        {
            **extra,
            "title": quiz_file.title,
            "pass_mark": quiz_file.pass_mark,
            "reveal": quiz_file.reveal,
            "reveal_after_attempts": quiz_file.reveal_after_attempts,
            "draw": quiz_file.draw,
            "is_published": quiz_file.published,
        },
    )
    for position, question_file in enumerate(quiz_file.questions, start=1):
        question = _upsert(
            report,
            Question,
            {"quiz": quiz, "order": position},
            {
                "kind": question_file.kind,
                "prompt": question_file.prompt,
                "explanation": question_file.explanation,
                "partial_credit": question_file.partial_credit,
                "accepted_answers": question_file.accepted_answers,
                "answer_pattern": question_file.answer_pattern,
                "wrong_feedback": question_file.wrong_feedback,
            },
        )
        for choice_file in question_file.choices:
            _upsert(
                report,
                Choice,
                {"question": question, "order": choice_file.order},
                {"text": choice_file.text, "is_correct": choice_file.is_correct, "feedback": choice_file.feedback},
            )
        question.choices.filter(order__gt=len(question_file.choices)).delete()
    quiz.questions.filter(order__gt=len(quiz_file.questions)).delete()


# --- Export ---


class _ExportDumper(yaml.SafeDumper):
    pass


def _represent_text(dumper, value):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExportDumper.add_representer(str, _represent_text)


def _dump(data):
    return yaml.dump(data, Dumper=_ExportDumper, sort_keys=False, allow_unicode=True, width=100)


def export_curriculum(directory, *, skipped=None):
    """Write every journey, lesson and glossary term to ``directory`` as loadable files.

    Orders are written only where they differ from what the file positions imply, so an export
    of freshly loaded content reads like hand-written files. Return the list of files written.

    A quiz that breaks the rules every quiz file must keep (a draft still being written in admin,
    or a published one learners do not get for that reason) is left out rather than written as a
    file that would not load: what is written is checked as ``load_journeys --check`` checks it.
    ``skipped``, when given, gets a line naming each one and its first problem.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    skipped = [] if skipped is None else skipped

    def write(path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)

    terms = []
    for term in GlossaryTerm.objects.order_by("term", "slug"):
        term_data = {"slug": term.slug, "term": term.term, "definition": term.definition}
        if term.docs_url:
            term_data["docs_url"] = term.docs_url
        terms.append(term_data)
    write(directory / "glossary.yaml", _dump({"terms": terms}))

    for journey in Journey.objects.order_by("order", "slug"):
        modules = list(journey.modules.order_by("order", "id"))
        journey_data = {"slug": journey.slug, "title": journey.title, "order": journey.order}
        if not journey.is_published:
            journey_data["published"] = False
        if journey.kubernetes_version:
            journey_data["kubernetes_version"] = journey.kubernetes_version
        journey_data.update(summary=journey.summary, description=journey.description, modules=[])
        for position, module in enumerate(modules, start=1):
            module_data = {"slug": module.slug, "title": module.title, "summary": module.summary}
            if module.order != position:
                module_data["order"] = module.order
            journey_data["modules"].append(module_data)
        write(directory / journey.slug / "journey.yaml", _dump(journey_data))

        number = 0
        for module in modules:
            for position, lesson in enumerate(module.lessons.order_by("order", "id"), start=1):
                number += 1
                front = {
                    "title": lesson.title,
                    "slug": lesson.slug,
                    "module": module.slug,
                    "minutes": lesson.minutes,
                    "summary": lesson.summary,
                    "objectives": lesson.objectives,
                    "takeaways": lesson.takeaways,
                }
                if lesson.order != position:
                    front["order"] = lesson.order
                if not lesson.is_published:
                    front["published"] = False
                text = f"---\n{_dump(front)}---\n{lesson.body}\n"
                stem = f"{number:02d}-{lesson.slug}"
                write(directory / journey.slug / f"{stem}.md", text)
                quiz = Quiz.objects.filter(lesson=lesson).first()
                path = directory / journey.slug / f"{stem}{QUIZ_SUFFIX}"
                if quiz is not None and (text := _quiz_text(quiz, path, skipped)) is not None:
                    write(path, text)
        final = Quiz.objects.filter(journey=journey, is_final=True).first()
        path = directory / journey.slug / FINAL_ASSESSMENT_FILE
        if final is not None and (text := _quiz_text(final, path, skipped)) is not None:
            write(path, text)
    return written


def _quiz_text(quiz, path, skipped):
    """The quiz file's text, or None (with a line in ``skipped``) when the file check would refuse it."""
    questions = list(quiz.questions.order_by("order", "id").prefetch_related("choices"))
    problems = stored_quiz_problems(quiz, questions)
    text = _dump(quiz_to_file_data(quiz, questions))
    if problems and not quiz.is_published:
        skipped.append(f"the draft quiz {quiz} is not finished ({problems[0]})")
    elif problems:
        skipped.append(f"the quiz {quiz} is published but breaks a rule, so learners do not get it ({problems[0]})")
    elif errors := quiz_text_errors(text, path.as_posix(), final=quiz.is_final):
        # Something else the file check refuses, in a row written some other way than admin.
        skipped.append(f"the quiz {quiz} would not pass the file check (line {errors[0].line}: {errors[0].message})")
    else:
        return text
    return None
