"""What an attack on quiz authoring and submission found, each case now held: a published quiz
that learners cannot take, a pattern that pins a worker, an open form graded against questions
that changed since, numbers the database cannot store, exports the file check refuses. (The kubectl
grading cases found by the same attack live in tests/test_kubectl_command.py.)
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from journeys.curriculum.files import read_curriculum
from journeys.models import Quiz, QuizAttempt
from journeys.quizzes.files import ChoiceFile, QuestionFile
from journeys.quizzes.rules import question_problems, stored_quiz_problems
from tests import factories
from tests.curriculum.test_loader import LESSON_DIR
from tests.quizzes.test_quizzes import TOKEN, open_quiz, submit
from tests.test_admin_quizzes import (
    add_question,
    change_question,
    change_quiz,
    page_text,
    question_data,
    quiz_data,
    stored_rows,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def learner_sees_quiz(quiz):
    return 'id="quiz"' in Client().get(quiz.lesson.get_absolute_url()).content.decode()


# =================================================================================================
# Admin: a published quiz that learners cannot take, reached through ordinary admin pages
# =================================================================================================


@pytest.mark.django_db
def test_question_page_checks_the_stored_choices_missing_from_the_post(staff_client):
    quiz, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    # The page as an editor had it before a colleague added "StatefulSet" as the right answer (or
    # with that row dropped from the management form): Deployment ticked Correct, DaemonSet wrong.
    rows = [
        {**row, "correct": row["text"] == "Deployment"} for row in stored_rows(question) if row["text"] != "StatefulSet"
    ]
    data = question_data(quiz=quiz, rows=rows, question=question, prompt=question.prompt, order=question.order)
    change_question(staff_client, question, data)
    # Today: 302, and the question has two correct choices (StatefulSet and Deployment).
    assert stored_quiz_problems(quiz) == [], [str(problem) for problem in stored_quiz_problems(quiz)]
    assert learner_sees_quiz(quiz)


@pytest.mark.django_db
def test_publishing_on_the_quiz_page_checks_every_stored_question(staff_client):
    quiz, _, _ = factories.quiz_with_every_kind()
    Quiz.objects.filter(pk=quiz.pk).update(is_published=False)
    quiz.refresh_from_db()
    page_loaded_earlier = quiz_data(quiz, is_published=True)  # six complete questions, Published ticked
    factories.QuestionFactory(quiz=quiz, kind="single", order=7, prompt="Unfinished")  # a colleague's draft
    response = change_quiz(staff_client, quiz, page_loaded_earlier)
    quiz.refresh_from_db()
    # Today: 302, the quiz is published with "Question 7 “Unfinished”: needs at least two choices".
    assert not quiz.is_published or not stored_quiz_problems(quiz), response.status_code
    assert not quiz.is_published or learner_sees_quiz(quiz)


# =================================================================================================
# Learner side after an admin change
# =================================================================================================


@pytest.mark.django_db
def test_an_open_form_is_not_graded_against_a_question_whose_kind_changed_since(staff_client):
    # It was: after an admin turned a single-choice question into a short-answer one, the learner's
    # submitted choice id ('1') was graded as the short text '1' and recorded as wrong.
    quiz, questions, right = factories.quiz_with_every_kind()
    learner = Client()
    token, _ = open_quiz(learner, quiz)
    question = questions["single"]
    rows = [{**row, "delete": True} for row in stored_rows(question)]
    data = question_data(
        quiz=quiz,
        kind="short",
        rows=rows,
        question=question,
        prompt=question.prompt,
        order=question.order,
        accepted_answers="StatefulSet",
    )
    assert change_question(staff_client, question, data).status_code == 302
    response = submit(learner, quiz, {**right, "token": token})  # the right choice, picked on the old form
    assert not QuizAttempt.objects.exists(), list(QuizAttempt.objects.values_list("answers", "score"))
    assert response.status_code == 409
    assert "This quiz changed since you opened it, so your answers were not recorded." in page_text(response)
    fresh = TOKEN.search(page_text(response)).group(1)  # the current form, in the same answer
    assert fresh != token
    answers = {**right, f"q{question.pk}": "StatefulSet", "token": fresh}
    assert submit(learner, quiz, answers).status_code == 200
    assert QuizAttempt.objects.get().score == 100


@pytest.mark.django_db
def test_adding_a_question_to_a_drawn_assessment_keeps_open_forms_submittable(staff_client, monkeypatch):
    # It was: the draw was recomputed from the seed over the *current* pool, so one question added in
    # admin changed every open form's draw, and a learner who answered the questions shown got 400
    # 'The form contained an answer to a question that is not in this quiz.' (worded as tampering).
    # Seed 0 draws two of the first four questions, but one of them and the fifth out of five: with
    # the seed pinned, a draw recomputed over the grown pool always differs.
    monkeypatch.setattr("journeys.quizzes.services.new_seed", lambda: 0)
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, draw=2)
    for order in range(4):
        factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"], order=order)
    learner = Client()
    page = learner.get(reverse("journeys:assessment", args=[journey.slug])).content.decode()
    token = TOKEN.search(page).group(1)
    shown = [int(number) for number in re.findall(r'name="q(\d+)"', page)]
    assert len(shown) == 2
    data = question_data(quiz=final, kind="short", accepted_answers="b", order=9)
    assert add_question(staff_client, data).status_code == 302
    response = learner.post(
        reverse("journeys:quiz_submit", args=[final.pk]),
        {**{f"q{number}": "a" for number in shown}, "token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200, page_text(response)
    attempt = QuizAttempt.objects.get()
    assert attempt.question_ids == shown and attempt.score == 100, "graded on the questions shown"


# =================================================================================================
# An answer pattern an admin can save pins a worker
# =================================================================================================


@pytest.mark.django_db
def test_an_answer_pattern_admin_accepts_cannot_pin_a_worker(staff_client):
    pattern = r"(\w+\s?)+"
    quiz = factories.QuizFactory()
    response = add_question(staff_client, question_data(quiz=quiz, kind="short", answer_pattern=pattern))
    if response.status_code != 302:
        return  # refused in admin (and so in files): fine
    code = (
        "from journeys.quizzes.grading import QuestionSpec, grade_question\n"
        f"grade_question(QuestionSpec(id=1, kind='short', answer_pattern={pattern!r}), 'a' * 40 + '!')\n"
    )
    try:
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=5, check=True, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("grading one 41-character answer against an admin-saved pattern took over 5 s")


# =================================================================================================
# Files and admin: one rule set?
# =================================================================================================


@pytest.mark.django_db
def test_the_file_check_refuses_a_reveal_after_attempts_the_database_cannot_store(content_copy):
    from journeys.curriculum.files import CurriculumError

    path = content_copy / LESSON_DIR / "04-jobs.quiz.yaml"
    path.write_text("reveal: after_attempts\nreveal_after_attempts: 40000\n" + path.read_text())
    with pytest.raises(CurriculumError) as caught:
        read_curriculum(content_copy)
    errors = [str(error) for error in caught.value.errors]
    assert any("04-jobs.quiz.yaml" in error and "reveal_after_attempts" in error for error in errors)


@pytest.mark.django_db
def test_a_second_final_assessment_is_refused_in_plain_words(staff_client):
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True)
    factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"])
    lesson = factories.LessonFactory(module=factories.ModuleFactory(journey=journey))
    quiz, _, _ = factories.quiz_with_every_kind(lesson=lesson)
    response = change_quiz(staff_client, quiz, quiz_data(quiz, is_final=True, lesson=""))
    assert response.status_code == 200
    text = page_text(response)
    assert "one_final_assessment_per_journey" not in text and "Constraint" not in text, text[:2000]


@pytest.mark.parametrize(
    ("kind", "choices"),
    [
        (
            "ordering",
            [
                ChoiceFile("Run kubectl apply", True, "", 1),
                ChoiceFile("Wait for the rollout", True, "", 2),
                ChoiceFile("Run kubectl apply", True, "", 3),
            ],
        ),
        (
            "single",
            [
                ChoiceFile("Deployment", True, "", 1),
                ChoiceFile("Deployment", False, "Pasted twice.", 2),
                ChoiceFile("DaemonSet", False, "One per node.", 3),
            ],
        ),
    ],
)
def test_two_choices_with_the_same_text_are_refused(kind, choices):
    question = QuestionFile(kind=kind, prompt="?", explanation="!", choices=choices)
    assert question_problems(question)


@pytest.mark.django_db
def test_export_never_writes_a_quiz_that_the_file_check_refuses(content_copy, tmp_path):
    import io

    from django.core.management import call_command

    from journeys.curriculum.files import CurriculumError

    call_command("load_journeys", str(content_copy), verbosity=0)
    quiz = Quiz.objects.get(lesson__slug="jobs")
    factories.QuestionFactory(quiz=quiz, kind="single", order=99, prompt="Unfinished")  # published, broken
    err = io.StringIO()
    call_command("export_journeys", str(tmp_path / "out"), verbosity=0, stderr=err)
    if "Not written" in err.getvalue():
        return  # said so: fine
    try:
        read_curriculum(tmp_path / "out")
    except CurriculumError as exc:
        pytest.fail(f"the export does not read back: {exc.errors[0]}")
