"""load_journeys / export_journeys: idempotence, validation with file and line, atomicity, round trip."""

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from journeys.curriculum.files import CurriculumError, read_curriculum
from journeys.curriculum.loader import export_curriculum, load_curriculum
from journeys.models import Choice, ContentSource, GlossaryTerm, Journey, Lesson, Module, Question, Quiz

LESSON_DIR = "intermediate-app-developer"


def snapshot():
    """Everything the curriculum files describe, as comparable plain data."""
    return {
        "journeys": list(
            Journey.objects.order_by("slug").values_list(
                "slug",
                "title",
                "summary",
                "description",
                "description_html",
                "kubernetes_version",
                "order",
                "is_published",
            )
        ),
        "modules": list(
            Module.objects.order_by("journey__slug", "slug").values_list(
                "journey__slug", "slug", "title", "summary", "order"
            )
        ),
        "lessons": list(
            Lesson.objects.order_by("journey__slug", "slug").values_list(
                "journey__slug",
                "module__slug",
                "slug",
                "title",
                "summary",
                "minutes",
                "objectives",
                "takeaways",
                "order",
                "is_published",
                "body",
                "body_html",
                "toc",
                "search_text",
            )
        ),
        "glossary": list(GlossaryTerm.objects.order_by("slug").values_list("slug", "term", "definition", "docs_url")),
        "quizzes": list(
            Quiz.objects.order_by("journey__slug", "lesson__slug", "is_final").values_list(
                "journey__slug",
                "lesson__slug",
                "is_final",
                "title",
                "pass_mark",
                "reveal",
                "reveal_after_attempts",
                "draw",
                "is_published",
            )
        ),
        "questions": list(
            Question.objects.order_by("quiz__lesson__slug", "quiz__is_final", "order").values_list(
                "quiz__lesson__slug",
                "quiz__is_final",
                "order",
                "kind",
                "prompt",
                "prompt_html",
                "explanation",
                "partial_credit",
                "accepted_answers",
                "answer_pattern",
                "wrong_feedback",
            )
        ),
        "choices": list(
            Choice.objects.order_by(
                "question__quiz__lesson__slug", "question__quiz__is_final", "question__order", "order"
            ).values_list("question__quiz__lesson__slug", "question__order", "order", "text", "is_correct", "feedback")
        ),
    }


def load(directory, **options):
    call_command("load_journeys", str(directory), verbosity=0, **options)


def lesson_file(content, name="02-statefulsets.md"):
    return Path(content) / LESSON_DIR / name


def replace_in(path, old, new):
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not found in {path.name}"
    path.write_text(text.replace(old, new, 1))


def errors_for(directory):
    with pytest.raises(CurriculumError) as caught:
        read_curriculum(directory)
    return [str(error) for error in caught.value.errors]


# --- Loading ---


@pytest.mark.django_db
def test_load_imports_the_whole_curriculum(content_copy):
    load(content_copy)
    journey = Journey.objects.get(slug="intermediate-app-developer")
    assert journey.modules.count() == 4
    assert Lesson.objects.filter(journey=journey).count() >= 12
    assert GlossaryTerm.objects.count() >= 20
    statefulsets = Lesson.objects.get(slug="statefulsets")
    assert statefulsets.body_html.startswith("<p>")
    assert statefulsets.toc and statefulsets.search_text


@pytest.mark.django_db
def test_loading_twice_changes_nothing(content_copy):
    load(content_copy)
    before = snapshot()
    stamps = list(Lesson.objects.order_by("id").values_list("updated_at", flat=True))
    out = io.StringIO()
    call_command("load_journeys", str(content_copy), stdout=out)
    assert "0 created, 0 updated" in out.getvalue()
    assert snapshot() == before
    assert list(Lesson.objects.order_by("id").values_list("updated_at", flat=True)) == stamps


@pytest.mark.django_db
def test_forced_reload_of_unchanged_files_writes_nothing(content_copy):
    curriculum = read_curriculum(content_copy)
    load_curriculum(curriculum)
    report = load_curriculum(curriculum, force=True)
    assert report.changed == 0


@pytest.mark.django_db
def test_a_new_way_of_rendering_renders_every_lesson_again(content_copy, monkeypatch):
    load(content_copy)
    Lesson.objects.update(body_html="<p>rendered the old way</p>")
    load(content_copy)
    assert set(Lesson.objects.values_list("body_html", flat=True)) == {"<p>rendered the old way</p>"}
    monkeypatch.setattr("journeys.curriculum.files.RENDERING_VERSION", "next")
    load(content_copy)
    assert not Lesson.objects.filter(body_html="<p>rendered the old way</p>").exists()


@pytest.mark.django_db
def test_changed_file_is_reloaded_and_admin_edits_elsewhere_survive(content_copy):
    load(content_copy)
    Lesson.objects.filter(slug="jobs").update(title="Jobs, edited in admin")
    replace_in(lesson_file(content_copy), "title: StatefulSets", "title: StatefulSets, revised")
    load(content_copy)
    assert Lesson.objects.get(slug="statefulsets").title == "StatefulSets, revised"
    assert Lesson.objects.get(slug="jobs").title == "Jobs, edited in admin"
    load(content_copy, force=True)
    assert Lesson.objects.get(slug="jobs").title == "Jobs"


@pytest.mark.django_db
def test_changed_glossary_definition_updates_tooltips_in_unchanged_lessons(content_copy):
    load(content_copy)
    glossary = content_copy / "glossary.yaml"
    text = glossary.read_text()
    glossary.write_text(text.replace("- slug: statefulset\n", "- slug: statefulset\n    # edited\n", 1))
    replace_in(
        glossary,
        "term: StatefulSet\n    definition: >-\n",
        "term: StatefulSet\n    definition: >-\n      ZZZ-NEW-DEFINITION\n",
    )
    load(content_copy)
    assert "ZZZ-NEW-DEFINITION" in Lesson.objects.get(slug="statefulsets").body_html


@pytest.mark.django_db
def test_check_validates_without_writing(content_copy):
    out = io.StringIO()
    call_command("load_journeys", str(content_copy), "--check", stdout=out)
    assert "valid" in out.getvalue()
    assert not Journey.objects.exists() and not ContentSource.objects.exists()


# --- Malformed files: path, line and reason; nothing imported ---


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("slug: statefulsets\n", "slug: statefulsets: nested\n", 3, "not valid YAML"),
        ("minutes:", "colour: blue\nminutes:", 5, "unknown key 'colour'"),
        ("title: StatefulSets\n", "", 2, "missing the required key 'title'"),
        ("module: workload-patterns", "module: no-such-module", 4, "is not listed in journey.yaml"),
        ("minutes: ", "minutes: lots # ", 5, "whole number"),
        ("minutes: ", "minutes: 99999999999 # ", 5, "whole number from 0 to 10000"),
    ],
    ids=["bad-yaml", "unknown-key", "missing-title", "unknown-module", "bad-minutes", "minutes-no-column-holds"],
)
def test_bad_front_matter_is_reported_with_path_and_line(content_copy, old, new, line, reason):
    path = lesson_file(content_copy)
    replace_in(path, old, new)
    errors = errors_for(content_copy)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}:{line}: ")
    assert reason in errors[0]


def test_missing_front_matter_is_reported(content_copy):
    path = lesson_file(content_copy)
    path.write_text("# StatefulSets\n\nNo front matter here.\n")
    [error] = errors_for(content_copy)
    assert error.endswith("a lesson must start with front matter: a line '---', YAML keys, then '---'")
    assert ":1: " in error


def test_unclosed_front_matter_is_reported(content_copy):
    path = lesson_file(content_copy)
    path.write_text("---\ntitle: x\nslug: x\nmodule: workload-patterns\n\nBody without the closing fence\n")
    [error] = errors_for(content_copy)
    assert "never closed" in error


def test_duplicate_lesson_slug_is_reported(content_copy):
    replace_in(lesson_file(content_copy, "04-jobs.md"), "slug: jobs", "slug: statefulsets")
    errors = errors_for(content_copy)
    duplicate = [error for error in errors if "04-jobs.md:3: " in error]
    assert len(duplicate) == 1
    assert "the lesson slug 'statefulsets' is already used by" in duplicate[0] and "02-statefulsets.md" in duplicate[0]
    # The other lessons' links to "jobs" now really lead nowhere, and say so.
    assert all("04-jobs.md:3: " in error or "lesson 'jobs' that does not exist" in error for error in errors)


def test_broken_link_to_missing_lesson_is_reported_with_its_line(content_copy):
    path = lesson_file(content_copy)
    text = path.read_text()
    body_start = text.index("---", 3) + 4
    path.write_text(text[:body_start] + "Read [this](lesson:no-such-lesson) first.\n\n" + text[body_start:])
    line = text[:body_start].count("\n") + 1
    [error] = errors_for(content_copy)
    assert f"02-statefulsets.md:{line}: " in error
    assert "lesson 'no-such-lesson' that does not exist" in error


def test_link_to_missing_section_is_reported(content_copy):
    path = lesson_file(content_copy)
    path.write_text(path.read_text() + "\n\nSee [jobs](lesson:jobs#no-such-heading).\n")
    [error] = errors_for(content_copy)
    assert "has no section with the anchor #no-such-heading" in error


def test_unknown_glossary_term_is_reported(content_copy):
    path = lesson_file(content_copy)
    path.write_text(path.read_text() + "\n\nA [[flux-capacitor]] appears.\n")
    [error] = errors_for(content_copy)
    assert "the glossary term 'flux-capacitor' does not exist" in error


def test_duplicate_glossary_slug_and_duplicate_yaml_key_are_reported(content_copy):
    glossary = content_copy / "glossary.yaml"
    glossary.write_text(
        "terms:\n"
        "  - slug: pod\n    term: Pod\n    definition: a\n"
        "  - slug: pod\n    term: Pod again\n    definition: b\n"
    )
    errors = errors_for(content_copy)
    assert any("glossary.yaml:5: the glossary slug 'pod' is already used on line 2" in error for error in errors)
    glossary.write_text("terms:\n  - slug: pod\n    slug: pod2\n    term: Pod\n    definition: a\n")
    errors = errors_for(content_copy)
    assert any("glossary.yaml:3: " in error and "appears twice" in error for error in errors)


def test_journey_file_problems_are_reported(content_copy):
    journey = content_copy / LESSON_DIR / "journey.yaml"
    replace_in(journey, "  - slug: production-ready\n", "  - slug: workload-patterns\n")
    errors = errors_for(content_copy)
    assert any(
        "journey.yaml:" in error and "module slug 'workload-patterns' is already used" in error for error in errors
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1.30", 'must be written in quotes, such as "1.34": unquoted, YAML reads 1.3 as a number'),
        ('"latest"', "must be a Kubernetes minor version such as \"1.34\", not 'latest'"),
        ('"v1.35"', "not 'v1.35'"),
    ],
    ids=["unquoted-number", "word", "leading-v"],
)
def test_bad_kubernetes_version_is_reported_with_its_line(content_copy, value, reason):
    journey = content_copy / LESSON_DIR / "journey.yaml"
    text = journey.read_text()
    line = text.splitlines().index(next(row for row in text.splitlines() if row.startswith("kubernetes_version:"))) + 1
    replace_in(journey, 'kubernetes_version: "1.35"', f"kubernetes_version: {value}")
    [error] = errors_for(content_copy)
    assert f"journey.yaml:{line}: 'kubernetes_version' " in error
    assert reason in error


@pytest.mark.parametrize(
    "url",
    [
        "http://kubernetes.io/docs/concepts/workloads/pods/",
        "https://example.com/docs/pods/",
        "https://kubernetes.io.example.com/docs/",
        "https://kubernetes.io/",
        "kubernetes.io/docs/concepts/workloads/pods/",
    ],
)
def test_glossary_link_outside_the_official_documentation_is_reported(content_copy, url):
    glossary = content_copy / "glossary.yaml"
    replace_in(
        glossary,
        "docs_url: https://kubernetes.io/docs/concepts/workloads/pods/\n",
        f"docs_url: {url}\n",
    )
    line = glossary.read_text().splitlines().index(f"    docs_url: {url}") + 1
    [error] = errors_for(content_copy)
    assert f"glossary.yaml:{line}: 'docs_url' must" in error


@pytest.mark.django_db
def test_a_term_without_a_documentation_link_still_loads_and_exports_without_one(content_copy, tmp_path):
    pod_link = "    docs_url: https://kubernetes.io/docs/concepts/workloads/pods/\n"
    replace_in(content_copy / "glossary.yaml", pod_link, "")
    load(content_copy)
    assert GlossaryTerm.objects.get(slug="pod").docs_url == ""
    export_curriculum(tmp_path / "out")
    exported = yaml.safe_load((tmp_path / "out" / "glossary.yaml").read_text())["terms"]
    [pod] = [term for term in exported if term["slug"] == "pod"]
    assert "docs_url" not in pod
    assert all(term["docs_url"].startswith("https://") for term in exported if term["slug"] != "pod")


def test_non_utf8_file_is_reported(content_copy):
    lesson_file(content_copy).write_bytes(b"---\ntitle: caf\xe9\n---\n")
    [error] = errors_for(content_copy)
    assert "not UTF-8" in error


@pytest.mark.django_db
def test_a_malformed_file_imports_nothing_and_exits_non_zero(content_copy):
    replace_in(lesson_file(content_copy, "14-whats-next.md"), "title:", "titel:")
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("load_journeys", str(content_copy), stderr=err)
    assert "14-whats-next.md" in err.getvalue()
    assert not Journey.objects.exists()
    assert not Lesson.objects.exists()
    assert not GlossaryTerm.objects.exists()


@pytest.mark.django_db
def test_a_malformed_file_leaves_a_loaded_curriculum_untouched(content_copy):
    load(content_copy)
    before = snapshot()
    replace_in(lesson_file(content_copy, "04-jobs.md"), "title: Jobs", "title: Jobs v2")
    replace_in(lesson_file(content_copy, "14-whats-next.md"), "slug: whats-next", "slug: Whats Next")
    with pytest.raises(CommandError):
        load(content_copy)
    assert snapshot() == before


def test_missing_content_directory_is_reported(tmp_path):
    [error] = errors_for(tmp_path / "nowhere")
    assert "does not exist" in error


# --- Quiz files ---


def quiz_file(content, name="04-jobs.quiz.yaml"):
    return Path(content) / LESSON_DIR / name


def test_quiz_question_without_a_correct_choice_is_reported(content_copy):
    path = quiz_file(content_copy)
    text = path.read_text()
    path.write_text(text.replace("correct: true", "correct: false"))
    errors = errors_for(content_copy)
    assert any("04-jobs.quiz.yaml:" in error and "has no correct choice" in error for error in errors)


def test_kubectl_question_without_accepted_command_is_reported(content_copy):
    path = quiz_file(content_copy)
    path.write_text(
        "questions:\n"
        "  - kind: kubectl\n"
        "    prompt: List the Pods.\n"
        "    explanation: Use get.\n"
        "    answers: []\n"
        "  - kind: kubectl\n"
        "    prompt: List the Pods.\n"
        "    explanation: Use get.\n"
        '    answers: ["ls -la"]\n'
    )
    errors = errors_for(content_copy)
    assert any(
        error.endswith("needs at least one accepted command in 'answers'") and ":5:" in error for error in errors
    )
    assert any("'ls -la' cannot be read" in error and ":9:" in error for error in errors)


@pytest.mark.parametrize("mark", [101, -5])
def test_pass_mark_outside_0_to_100_is_reported(content_copy, mark):
    path = quiz_file(content_copy)
    path.write_text(f"pass_mark: {mark}\n" + path.read_text())
    [error] = errors_for(content_copy)
    assert "04-jobs.quiz.yaml:1: " in error and "'pass_mark'" in error


def test_wrong_choice_without_feedback_and_unknown_kind_are_reported(content_copy):
    path = quiz_file(content_copy)
    path.write_text(
        "questions:\n"
        "  - kind: single\n"
        "    prompt: Pick.\n"
        "    explanation: Because.\n"
        "    choices:\n"
        "      - text: Right\n"
        "        correct: true\n"
        "      - text: Wrong\n"
        "  - kind: essay\n"
        "    prompt: Write.\n"
        "    explanation: No.\n"
    )
    errors = errors_for(content_copy)
    assert any(":8: every wrong choice needs 'feedback'" in error for error in errors)
    assert any(":9: 'kind' must be one of" in error for error in errors)


def test_quiz_file_without_its_lesson_is_reported(content_copy):
    quiz_file(content_copy).rename(quiz_file(content_copy, "99-missing.quiz.yaml"))
    [error] = errors_for(content_copy)
    assert "99-missing.quiz.yaml:1: no lesson 99-missing.md" in error


@pytest.mark.django_db
def test_editing_a_quiz_file_updates_questions_in_place(content_copy):
    load(content_copy)
    question = Question.objects.get(quiz__lesson__slug="jobs", order=1)
    path = quiz_file(content_copy)
    data = yaml.safe_load(path.read_text())
    data["questions"][0]["prompt"] = "(revised) " + data["questions"][0]["prompt"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    load(content_copy)
    revised = Question.objects.get(quiz__lesson__slug="jobs", order=1)
    assert revised.pk == question.pk and revised.prompt.startswith("(revised)")


# --- Export ---


@pytest.mark.django_db
def test_load_export_load_round_trips_exactly(content_copy, tmp_path):
    load(content_copy)
    original = snapshot()
    exported = tmp_path / "exported"
    call_command("export_journeys", str(exported), verbosity=0)
    for model in (Lesson, Module, Journey, GlossaryTerm, ContentSource):
        model.objects.all().delete()
    load(exported)
    assert snapshot() == original
    assert len(original["questions"]) >= 60
    # Written as text, so that YAML does not turn "1.30" into the number 1.3 on the way back.
    assert "kubernetes_version: '1.35'" in (exported / LESSON_DIR / "journey.yaml").read_text()
    assert Journey.objects.get().kubernetes_version == "1.35"
    assert GlossaryTerm.objects.get(slug="pod").docs_url == "https://kubernetes.io/docs/concepts/workloads/pods/"


@pytest.mark.django_db
def test_a_version_edited_in_admin_survives_the_round_trip(content_copy, tmp_path):
    load(content_copy)
    Journey.objects.update(kubernetes_version="1.30")
    GlossaryTerm.objects.filter(slug="helm-chart").update(docs_url="https://helm.sh/docs/topics/charts/")
    edited = snapshot()
    export_curriculum(tmp_path / "out")
    for model in (Lesson, Module, Journey, GlossaryTerm, ContentSource):
        model.objects.all().delete()
    load(tmp_path / "out")
    assert snapshot() == edited
    assert Journey.objects.get().kubernetes_version == "1.30"


@pytest.mark.django_db
def test_export_keeps_admin_edits_orders_and_drafts(content_copy, tmp_path):
    load(content_copy)
    lesson = Lesson.objects.get(slug="jobs")
    lesson.title = "Jobs: run to completion"
    lesson.body += "\n\nA new paragraph written in admin.\r\n"
    lesson.order = 42
    lesson.is_published = False
    lesson.save()
    Module.objects.filter(slug="whats-next").update(order=9)
    edited = snapshot()
    export_curriculum(tmp_path / "out")
    for model in (Lesson, Module, Journey, GlossaryTerm, ContentSource):
        model.objects.all().delete()
    load(tmp_path / "out")
    assert snapshot() == edited
    assert "published: false" in next((tmp_path / "out" / LESSON_DIR).glob("*-jobs.md")).read_text()


@pytest.mark.django_db
def test_export_to_a_file_path_fails_clearly(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    with pytest.raises(CommandError, match="not a directory"):
        call_command("export_journeys", str(target))


# --- Every number and text a quiz file passes with is one the database stores ---


@pytest.mark.parametrize(
    ("name", "head", "reason"),
    [
        (
            "04-jobs.quiz.yaml",
            "reveal: after_attempts\nreveal_after_attempts: 40000\n",
            ":2: 'reveal_after_attempts' must be between 1 and 100, not 40000",
        ),
        ("04-jobs.quiz.yaml", f"title: {'x' * 201}\n", ":1: 'title' is at most 200 characters long, not 201"),
        ("final-assessment.yaml", "", ":5: 'draw' must be at most 100 (leave it out to ask every question)"),
    ],
)
def test_a_quiz_number_or_text_out_of_bounds_is_reported_with_its_line(content_copy, name, head, reason):
    path = quiz_file(content_copy, name)
    text = path.read_text()
    if name == "final-assessment.yaml":
        text = text.replace("draw: 15\n", "draw: 40000\n")
    else:
        text = head + text.replace("title: Check your understanding\n", "")
    path.write_text(text)
    [error] = errors_for(content_copy)
    assert f"{name}{reason}" in error


def test_the_rules_text_limits_are_the_lengths_of_their_columns():
    from journeys.quizzes import rules as quiz_rules

    assert Quiz._meta.get_field("title").max_length == quiz_rules.MAX_TITLE
    assert Choice._meta.get_field("text").max_length == quiz_rules.MAX_CHOICE_TEXT
    assert Question._meta.get_field("answer_pattern").max_length == quiz_rules.MAX_PATTERN


@pytest.mark.django_db
def test_a_value_the_database_refuses_names_its_file_and_imports_nothing(content_copy, monkeypatch):
    from django.db import DataError

    from journeys.curriculum import loader

    load_quiz = loader._load_quiz

    def refuse_the_jobs_quiz(report, quiz_file, lookup, extra):
        if quiz_file.source.endswith("04-jobs.quiz.yaml"):
            raise DataError("smallint out of range\n")
        return load_quiz(report, quiz_file, lookup, extra)

    monkeypatch.setattr(loader, "_load_quiz", refuse_the_jobs_quiz)
    with pytest.raises(CommandError) as caught:
        load(content_copy)
    message = str(caught.value)
    assert f"{LESSON_DIR}/04-jobs.quiz.yaml: the database refused a value from this file" in message
    assert "(DataError: smallint out of range)" in message and "nothing was imported" in message
    assert "migrate" not in message
    assert not Lesson.objects.exists()


@pytest.mark.django_db
def test_a_database_without_its_tables_is_still_told_to_migrate(content_copy, monkeypatch):
    from django.db import OperationalError

    from journeys.curriculum import loader

    def no_table(*args, **kwargs):
        raise OperationalError("no such table: journeys_journey")

    monkeypatch.setattr(loader, "_load_journey_and_modules", no_table)
    with pytest.raises(CommandError) as caught:
        load(content_copy)
    assert "The database is not ready (OperationalError: no such table: journeys_journey) while importing " in str(
        caught.value
    )
    assert "Run `python manage.py migrate` first; nothing was imported." in str(caught.value)


@pytest.mark.django_db
def test_on_postgresql_a_number_past_the_column_is_refused_naming_its_file(content_copy, monkeypatch):
    from django.db import connection

    from journeys.quizzes import rules as quiz_rules

    if connection.vendor != "postgresql":
        pytest.skip("only PostgreSQL refuses 40000 in a smallint column (SQLite stores it)")
    monkeypatch.setattr(quiz_rules, "MAX_REVEAL_AFTER_ATTEMPTS", 10**6)  # as the check was before its bound
    path = quiz_file(content_copy)
    path.write_text("reveal: after_attempts\nreveal_after_attempts: 40000\n" + path.read_text())
    with pytest.raises(CommandError) as caught:
        load(content_copy)
    assert "04-jobs.quiz.yaml: the database refused a value from this file (DataError: smallint out of range)" in (
        str(caught.value)
    )
    assert not Lesson.objects.exists()
