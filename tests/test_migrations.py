"""Migrations keep learner progress: a database populated at an older schema migrates forward intact."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

OLDEST_WITH_PROGRESS = [("journeys", "0002_quizzes_and_progress")]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_migrating_a_populated_database_keeps_learner_progress():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("journeys")
    executor.migrate(OLDEST_WITH_PROGRESS)
    old = executor.loader.project_state(OLDEST_WITH_PROGRESS).apps

    user = old.get_model("auth", "User").objects.create(username="ada", password="!")
    journey = old.get_model("journeys", "Journey").objects.create(slug="j", title="J")
    module = old.get_model("journeys", "Module").objects.create(journey=journey, slug="m", title="M")
    lesson = old.get_model("journeys", "Lesson").objects.create(
        module=module, journey=journey, slug="l", title="L", body="b"
    )
    quiz = old.get_model("journeys", "Quiz").objects.create(journey=journey, lesson=lesson)
    old.get_model("journeys", "LessonProgress").objects.create(
        user=user, lesson=lesson, completed_via="quiz", completed_at="2026-01-02T03:04:05Z"
    )
    old.get_model("journeys", "QuizAttempt").objects.create(
        user=user, quiz=quiz, submission_token="12345678-1234-4234-8234-123456789012", seed=7,
        score=90.0, passed=True, started_at="2026-01-02T03:00:00Z", answers={"1": "x"},
    )  # fmt: skip
    old.get_model("journeys", "Certificate").objects.create(user=user, journey=journey, code="c0de", learner_name="Ada")

    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    new = executor.loader.project_state(latest).apps
    progress = new.get_model("journeys", "LessonProgress").objects.get()
    assert (progress.user_id, progress.lesson_id, progress.completed_via) == (user.pk, lesson.pk, "quiz")
    attempt = new.get_model("journeys", "QuizAttempt").objects.get()
    assert (attempt.score, attempt.passed, attempt.answers) == (90.0, True, {"1": "x"})
    assert new.get_model("journeys", "Certificate").objects.get().code == "c0de"
