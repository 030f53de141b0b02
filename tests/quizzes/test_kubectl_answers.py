"""The curriculum's kubectl and schedule answers, read the way the quiz grades them."""

import pytest

from journeys.admin_forms import QuestionAdminForm
from journeys.curriculum.files import CurriculumError, read_curriculum
from journeys.models import Question
from journeys.quizzes.grading import QuestionSpec, grade_question, schedule_meaning
from journeys.quizzes.kubectl_command import parse_accepted_command, parse_kubectl
from journeys.sandbox.schedules import expand
from tests.conftest import CONTENT_DIR
from tests.factories import QuizFactory

CURRICULUM = read_curriculum(CONTENT_DIR)


def questions(kind):
    for journey in CURRICULUM.journeys:
        quizzes = [lesson.quiz for lesson in journey.lessons if lesson.quiz] + [journey.final_assessment]
        for quiz in filter(None, quizzes):
            for number, question in enumerate(quiz.questions, start=1):
                if question.kind == kind:
                    yield pytest.param(question, id=f"{quiz.source.rsplit('/', 1)[-1]}#{number}")


KUBECTL_QUESTIONS = list(questions("kubectl"))
SHORT_QUESTIONS = list(questions("short"))


def test_the_curriculum_has_kubectl_and_schedule_questions():
    assert len(KUBECTL_QUESTIONS) >= 10
    assert any(schedule_meaning(answer) for param in SHORT_QUESTIONS for answer in param.values[0].accepted_answers)


@pytest.mark.parametrize("question", KUBECTL_QUESTIONS)
def test_every_accepted_command_is_a_command_kubectl_has_with_flags_it_has(question):
    for answer in question.accepted_answers:
        command = parse_accepted_command(answer)
        assert command.command, f"{answer!r}: kubectl has no such command"
        assert not command.unknown_flags


@pytest.mark.parametrize("question", KUBECTL_QUESTIONS)
def test_every_accepted_command_is_graded_right_and_so_is_its_canonical_form(question):
    spec = QuestionSpec(1, "kubectl", accepted_answers=tuple(question.accepted_answers))
    for answer in question.accepted_answers:
        assert grade_question(spec, answer).correct
        canonical = str(parse_kubectl(answer))
        assert grade_question(spec, canonical).correct, f"{answer!r} reads as {canonical!r}, which reads otherwise"


@pytest.mark.parametrize("question", SHORT_QUESTIONS)
def test_a_schedule_answer_accepts_the_same_schedule_written_otherwise(question):
    for answer in question.accepted_answers:
        if schedule_meaning(answer) is None:
            continue
        minute, hour, day, month, weekday = answer.split()
        # Every month, written out; minutes and hours with leading zeros: the same times.
        respelled = f"{minute.zfill(2)} {hour.zfill(2)} {day} {'1-12' if month == '*' else month} {weekday}"
        assert expand(respelled) == expand(answer)
        spec = QuestionSpec(1, "short", accepted_answers=tuple(question.accepted_answers))
        assert grade_question(spec, respelled).correct


def test_an_accepted_command_with_a_flag_kubectl_lacks_is_reported_with_its_line(content_copy):
    path = content_copy / "intermediate-app-developer" / "04-jobs.quiz.yaml"
    path.write_text(
        "questions:\n"
        "  - kind: kubectl\n"
        "    prompt: Show the logs of the crashed container.\n"
        "    explanation: Use logs.\n"
        '    answers: ["kubectl logs web -p", "kubectl logs web --previuos"]\n'
    )
    with pytest.raises(CurriculumError) as caught:
        read_curriculum(content_copy)
    [error] = [str(error) for error in caught.value.errors]
    assert "04-jobs.quiz.yaml:5:" in error and "kubectl logs" in error and "has no flag --previuos" in error


@pytest.mark.django_db
def test_admin_refuses_an_accepted_command_with_a_flag_kubectl_lacks():
    quiz = QuizFactory()
    data = {
        "quiz": quiz.pk,
        "order": 1,
        "kind": Question.Kind.KUBECTL,
        "prompt": "Show the logs of the crashed container.",
        "explanation": "Use logs.",
        "partial_credit": False,
        "accepted_answers": "kubectl logs web -p\nkubectl logs web --previuos",
        "answer_pattern": "",
        "wrong_feedback": "",
    }
    form = QuestionAdminForm(data=data)
    assert not form.is_valid()
    assert "has no flag --previuos" in str(form.errors["accepted_answers"])
    data["accepted_answers"] = "kubectl logs web -p\nkubectl logs web --previous=true"
    assert QuestionAdminForm(data=data).is_valid()
