"""Draft quizzes in files and exports: ``published: false`` round-trips, an unfinished draft is not exported."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from journeys.curriculum.files import read_curriculum
from journeys.models import Choice, ContentSource, GlossaryTerm, Journey, Lesson, Module, Question, Quiz
from tests.curriculum.test_loader import LESSON_DIR, errors_for, load, snapshot

pytestmark = pytest.mark.django_db


def wipe():
    for model in (Lesson, Module, Journey, GlossaryTerm, ContentSource):
        model.objects.all().delete()


def export(directory):
    err = io.StringIO()
    call_command("export_journeys", str(directory), verbosity=0, stderr=err)
    return err.getvalue()


def test_a_quiz_file_can_hold_a_draft_that_learners_do_not_see(content_copy, client):
    path = content_copy / LESSON_DIR / "04-jobs.quiz.yaml"
    path.write_text("published: false\n" + path.read_text())
    load(content_copy)
    quiz = Quiz.objects.get(lesson__slug="jobs")
    assert quiz.is_published is False
    assert 'id="quiz"' not in client.get(quiz.lesson.get_absolute_url()).content.decode()
    assert client.get(reverse("journeys:quiz", args=[quiz.pk])).status_code == 404


def test_a_draft_quiz_file_is_checked_like_any_other(content_copy):
    path = content_copy / LESSON_DIR / "04-jobs.quiz.yaml"
    path.write_text("published: false\n" + path.read_text().replace("correct: true", "correct: false"))
    assert any("04-jobs.quiz.yaml:" in error and "has no correct choice" in error for error in errors_for(content_copy))


def test_export_keeps_a_draft_quiz_as_a_draft(content_copy, tmp_path):
    load(content_copy)
    Quiz.objects.filter(lesson__slug="jobs").update(is_published=False)
    edited = snapshot()
    assert export(tmp_path / "out") == ""
    assert "published: false" in (tmp_path / "out" / LESSON_DIR / "04-jobs.quiz.yaml").read_text()
    wipe()
    load(tmp_path / "out")
    assert snapshot() == edited


def test_export_leaves_out_an_unfinished_draft_and_says_so(content_copy, tmp_path):
    load(content_copy)
    quiz = Quiz.objects.get(lesson__slug="jobs")
    Quiz.objects.filter(pk=quiz.pk).update(is_published=False)
    Question.objects.create(quiz=quiz, order=99, kind="single", prompt="Unfinished", explanation="Later.")
    warnings = export(tmp_path / "out")
    assert f"Not written: the draft quiz {quiz} is not finished (Question 99 “Unfinished”: " in warnings
    assert "Finish it in admin and export again." in warnings
    assert not (tmp_path / "out" / LESSON_DIR / "04-jobs.quiz.yaml").exists()
    read_curriculum(tmp_path / "out")  # what was written loads


def test_a_true_false_question_written_in_admin_exports_to_a_file_that_loads(content_copy, tmp_path):
    load(content_copy)
    quiz = Quiz.objects.get(lesson__slug="jobs")
    question = Question.objects.create(quiz=quiz, order=99, kind="true_false", prompt="Jobs retry.", explanation="Yes.")
    Choice.objects.create(question=question, order=1, text="True", is_correct=True)
    Choice.objects.create(question=question, order=2, text="False", feedback="backoffLimit retries failed Pods.")
    export(tmp_path / "out")
    read_curriculum(tmp_path / "out")
    assert (
        "feedback: backoffLimit retries failed Pods."
        in (tmp_path / "out" / LESSON_DIR / "04-jobs.quiz.yaml").read_text()
    )


def test_export_leaves_out_a_published_quiz_that_breaks_a_rule_and_says_so(content_copy, tmp_path):
    load(content_copy)
    quiz = Quiz.objects.get(lesson__slug="jobs")
    Question.objects.create(quiz=quiz, order=99, kind="single", prompt="Unfinished", explanation="Later.")
    warnings = export(tmp_path / "out")
    assert (
        f"Not written: the quiz {quiz} is published but breaks a rule, so learners do not get it "
        "(Question 99 “Unfinished”: " in warnings
    )
    assert not (tmp_path / "out" / LESSON_DIR / "04-jobs.quiz.yaml").exists()
    read_curriculum(tmp_path / "out")  # what was written loads


def test_export_leaves_out_a_quiz_the_file_check_refuses_for_any_other_reason(content_copy, tmp_path):
    load(content_copy)
    quiz = Quiz.objects.get(lesson__slug="jobs")
    Quiz.objects.filter(pk=quiz.pk).update(title="")  # written some other way than admin, which requires one
    warnings = export(tmp_path / "out")
    assert "would not pass the file check (line 1: 'title' must not be empty)" in warnings
    assert not (tmp_path / "out" / LESSON_DIR / "04-jobs.quiz.yaml").exists()
    read_curriculum(tmp_path / "out")
