"""Quizzes edited in Django admin keep the rules of the quiz files, so no edit can break a live quiz.

Every test posts the real admin forms (with their inline management forms) through the test client.
"""

import html
import threading
import time

import pytest
import yaml
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from journeys.curriculum.files import YamlFileReader
from journeys.models import Choice, Question, Quiz
from journeys.quizzes.files import ChoiceFile, QuestionFile, read_quiz
from journeys.quizzes.rules import question_problems, stored_quiz_problems
from tests import factories
from tests.conftest import CONTENT_DIR

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def page_text(response):
    return html.unescape(response.content.decode())


# --- Posting the question page (a question with its choices inline) ---


def question_data(*, quiz, kind="single", rows=(), question=None, **fields):
    """The question page's POST: its fields, then one choice row per dict in ``rows``.

    A row is {"text", "correct", "feedback", "order"}; with "id" it is a stored choice of
    ``question`` (stored rows come first, as admin renders them); "delete": True ticks Delete.
    """
    data = {
        "quiz": quiz.pk,
        "order": fields.pop("order", 1),
        "kind": kind,
        "prompt": fields.pop("prompt", "Which controller keeps Pod names stable?"),
        "explanation": fields.pop("explanation", "Because of sticky identities."),
        "accepted_answers": fields.pop("accepted_answers", ""),
        "answer_pattern": fields.pop("answer_pattern", ""),
        "wrong_feedback": fields.pop("wrong_feedback", ""),
    }
    if fields.pop("partial_credit", False):
        data["partial_credit"] = "on"
    assert not fields, fields
    rows = list(rows)
    data.update(
        {
            "choices-TOTAL_FORMS": len(rows),
            "choices-INITIAL_FORMS": sum(1 for row in rows if row.get("id")),
            "choices-MIN_NUM_FORMS": 0,
            "choices-MAX_NUM_FORMS": 1000,
        }
    )
    for index, row in enumerate(rows):
        prefix = f"choices-{index}-"
        if row.get("id"):
            data[prefix + "id"] = row["id"]
            data[prefix + "question"] = question.pk
        data[prefix + "order"] = row.get("order", index + 1)
        data[prefix + "text"] = row.get("text", f"Choice {index + 1}")
        data[prefix + "feedback"] = row.get("feedback", "")
        if row.get("correct"):
            data[prefix + "is_correct"] = "on"
        if row.get("delete"):
            data[prefix + "DELETE"] = "on"
    return data


def stored_rows(question, **changes_by_text):
    """The rows of ``question``'s stored choices, as the page shows them, with changes by choice text."""
    rows = []
    for choice in question.choices.order_by("order", "id"):
        row = {
            "id": choice.pk,
            "text": choice.text,
            "correct": choice.is_correct,
            "feedback": choice.feedback,
            "order": choice.order,
        }
        row.update(changes_by_text.get(choice.text, {}))
        rows.append(row)
    return rows


def add_question(client, data):
    return client.post(reverse("admin:journeys_question_add"), data)


def change_question(client, question, data):
    return client.post(reverse("admin:journeys_question_change", args=[question.pk]), data)


RIGHT = {"text": "StatefulSet", "correct": True}
WRONG = {"text": "Deployment", "feedback": "Deployment Pods get random names."}
WRONG_TOO = {"text": "DaemonSet", "feedback": "One Pod per node, names are random."}


@pytest.fixture
def quiz():
    return factories.QuizFactory()


def assert_refused(response, message):
    assert response.status_code == 200, "the form was saved"
    assert message in page_text(response), page_text(response)[:3000]


# Each case: the question page's kind, fields and rows, and the message admin shows.
REFUSED_QUESTIONS = {
    "single without choices": (
        "single",
        {},
        [],
        "A single-choice question needs at least two choices: add them under Choices.",
    ),
    "single with one choice": (
        "single",
        {},
        [RIGHT],
        "A single-choice question needs at least two choices: add them under Choices.",
    ),
    "single without a correct choice": (
        "single",
        {},
        [{**RIGHT, "correct": False, "feedback": "x"}, WRONG],
        "This question has no correct choice: tick Correct on the right one.",
    ),
    "single with two correct choices": (
        "single",
        {},
        [RIGHT, {**WRONG, "correct": True}],
        "A single-choice question has exactly one correct choice, not 2: untick Correct on all but one, "
        "or make it a multiple-choice question.",
    ),
    "multiple without a correct choice": (
        "multiple",
        {},
        [WRONG, WRONG_TOO],
        "This question has no correct choice: tick Correct on each right one.",
    ),
    "multiple with one choice": (
        "multiple",
        {},
        [RIGHT],
        "A multiple-choice question needs at least two choices: add them under Choices.",
    ),
    "a wrong choice without feedback": (
        "single",
        {},
        [RIGHT, {"text": "Deployment"}],
        "The wrong choice “Deployment” needs feedback saying why it is wrong.",
    ),
    "true/false with other choices": (
        "true_false",
        {},
        [{"text": "Yes", "correct": True}, {"text": "No", "feedback": "It is yes."}],
        "A true/false question has exactly two choices, “True” and “False”: name them so and delete any other.",
    ),
    "true/false with a third choice": (
        "true_false",
        {},
        [{"text": "True", "correct": True}, {"text": "False", "feedback": "x"}, {"text": "Maybe", "feedback": "x"}],
        "A true/false question has exactly two choices, “True” and “False”: name them so and delete any other.",
    ),
    "true/false with both correct": (
        "true_false",
        {},
        [{"text": "True", "correct": True}, {"text": "False", "correct": True}],
        "Exactly one of “True” and “False” is correct: tick Correct on that one only.",
    ),
    "ordering with one step": (
        "ordering",
        {},
        [{"text": "Build", "order": 1}],
        "An ordering question needs at least two steps",
    ),
    "ordering with two steps in one place": (
        "ordering",
        {},
        [{"text": "Build", "order": 1}, {"text": "Push", "order": 2}, {"text": "Deploy", "order": 2}],
        "Two steps have the Order 2: give every step its own place (1, 2, 3 ...).",
    ),
    "short without answers or pattern": (
        "short",
        {},
        [],
        "A short-answer question needs accepted answers or a pattern: write each accepted answer on its own line, "
        "or give a pattern.",
    ),
    "short with a pattern that does not compile": (
        "short",
        {"answer_pattern": "on(failure"},
        [],
        "This is not a valid regular expression (missing ), unterminated subpattern at position 2): correct it, "
        "or clear it and list the accepted answers instead.",
    ),
    "short with choices": (
        "short",
        {"accepted_answers": "OnFailure"},
        [RIGHT, WRONG],
        "A short-answer question has no choices: delete them, or change the kind of question.",
    ),
    "kubectl without a command": (
        "kubectl",
        {},
        [],
        "A kubectl question needs at least one accepted command: write each one on its own line.",
    ),
    "kubectl with a command that cannot be read": (
        "kubectl",
        {"accepted_answers": "kubectl get pods -n shop\nls -la"},
        [],
        "The accepted command “ls -la” cannot be read: The command should start with kubectl. "
        "Correct it, or delete that line.",
    ),
    "a pattern on a kubectl question": (
        "kubectl",
        {"accepted_answers": "kubectl get pods", "answer_pattern": "kubectl.*"},
        [],
        "Only a short-answer question uses a pattern: clear it, or change the kind of question.",
    ),
    "accepted answers on a choice question": (
        "single",
        {"accepted_answers": "StatefulSet"},
        [RIGHT, WRONG],
        "Only short-answer and kubectl questions have accepted answers: clear them for a single-choice question.",
    ),
    "short with a pattern that takes too long": (
        "short",
        {"answer_pattern": "(a|aa)+$"},
        [],
        "This pattern takes too long to check some answers: a repeated part can match the same text in more than "
        "one way, as in (a|aa)+ or (\\w|[a-z])+.",
    ),
    "single with two choices that read the same": (
        "single",
        {},
        [RIGHT, {"text": "  statefulSET  ", "feedback": "Pasted twice."}],
        "Two choices read “statefulSET”: a learner cannot tell them apart. Reword one, or delete it.",
    ),
    "ordering with two steps that read the same": (
        "ordering",
        {},
        [
            {"text": "Run kubectl apply", "order": 1},
            {"text": "Wait", "order": 2},
            {"text": "run kubectl APPLY", "order": 3},
        ],
        "Two steps read “run kubectl APPLY”: a learner cannot tell which goes where. Reword one.",
    ),
    "a step in a place out of range": (
        "ordering",
        {},
        [{"text": "Build", "order": 1}, {"text": "Push", "order": 40000}],
        "Order must be a whole number from 0 to 10000.",
    ),
    "a question in a place out of range": (
        "short",
        {"accepted_answers": "OnFailure", "order": 40000},
        [],
        "Order must be a whole number from 0 to 10000.",
    ),
}


@pytest.mark.parametrize("case", REFUSED_QUESTIONS)
def test_adding_a_question_that_breaks_a_rule_is_refused(staff_client, quiz, case):
    kind, fields, rows, message = REFUSED_QUESTIONS[case]
    response = add_question(staff_client, question_data(quiz=quiz, kind=kind, rows=rows, **fields))
    assert_refused(response, message)
    assert not Question.objects.exists() and not Choice.objects.exists()


@pytest.mark.parametrize("case", REFUSED_QUESTIONS)
def test_changing_a_live_question_so_it_breaks_a_rule_is_refused(staff_client, case):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    kind, fields, rows, message = REFUSED_QUESTIONS[case]
    # The stored choices are deleted in the same post, so only the case's rows remain.
    rows = [{**row, "delete": True} for row in stored_rows(question)] + list(rows)
    before = sorted(question.choices.values_list("id", "text", "is_correct"))
    response = change_question(
        staff_client, question, question_data(quiz=question.quiz, kind=kind, rows=rows, question=question, **fields)
    )
    assert_refused(response, message)
    question.refresh_from_db()
    assert question.kind == "single"
    assert sorted(question.choices.values_list("id", "text", "is_correct")) == before


VALID_QUESTIONS = {
    "single": ("single", {}, [RIGHT, WRONG]),
    "multiple": ("multiple", {"partial_credit": True}, [RIGHT, {**WRONG_TOO, "correct": True}, WRONG]),
    "true/false": (
        "true_false",
        {"wrong_feedback": "It is true."},
        [{"text": "True", "correct": True}, {"text": "False", "feedback": "It is true."}],
    ),
    "ordering": ("ordering", {}, [{"text": "Build", "order": 1}, {"text": "Push", "order": 2}]),
    "short with answers": ("short", {"accepted_answers": "OnFailure\nNever"}, []),
    "short with a pattern only": ("short", {"answer_pattern": r"on\s*failure"}, []),
    "kubectl": ("kubectl", {"accepted_answers": "kubectl get pods -n shop"}, []),
}


@pytest.mark.parametrize("case", VALID_QUESTIONS)
def test_a_valid_question_is_saved_with_its_choices(staff_client, quiz, case):
    kind, fields, rows = VALID_QUESTIONS[case]
    response = add_question(staff_client, question_data(quiz=quiz, kind=kind, rows=rows, **fields))
    assert response.status_code == 302, page_text(response)[:3000]
    question = Question.objects.get()
    assert question.kind == kind and question.choices.count() == len(rows)
    assert question_problems(question) == []


# --- Deleting choices ---


def test_deleting_the_only_correct_choice_is_refused(staff_client):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    rows = stored_rows(question, StatefulSet={"delete": True})
    response = change_question(staff_client, question, question_data(quiz=question.quiz, rows=rows, question=question))
    assert_refused(response, "This question has no correct choice: tick Correct on the right one.")
    assert question.choices.filter(text="StatefulSet").exists()


def test_deleting_a_choice_that_leaves_one_is_refused(staff_client):
    question = factories.QuestionFactory(kind="single")
    factories.ChoiceFactory(question=question, text="StatefulSet", is_correct=True, order=1)
    factories.ChoiceFactory(question=question, text="Deployment", order=2)
    rows = stored_rows(question, Deployment={"delete": True})
    response = change_question(staff_client, question, question_data(quiz=question.quiz, rows=rows, question=question))
    assert_refused(response, "A single-choice question needs at least two choices")
    assert question.choices.count() == 2


def test_deleting_an_ordering_step_that_leaves_one_is_refused(staff_client):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["ordering"]
    rows = stored_rows(question, Authorization={"delete": True}, Admission={"delete": True})
    response = change_question(
        staff_client, question, question_data(quiz=question.quiz, kind="ordering", rows=rows, question=question)
    )
    assert_refused(response, "An ordering question needs at least two steps")
    assert question.choices.count() == 3


def test_a_question_out_of_place_is_refused_beside_its_order_field(staff_client, quiz):
    response = add_question(staff_client, question_data(quiz=quiz, kind="short", accepted_answers="a", order=40000))
    assert response.context["adminform"].form.errors["order"] == ["Order must be a whole number from 0 to 10000."]


def test_deleting_a_choice_the_question_can_spare_is_saved(staff_client):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    rows = stored_rows(question, DaemonSet={"delete": True})
    response = change_question(staff_client, question, question_data(quiz=question.quiz, rows=rows, question=question))
    assert response.status_code == 302
    assert sorted(question.choices.values_list("text", flat=True)) == ["Deployment", "StatefulSet"]


def test_a_wrong_choice_without_feedback_is_marked_on_its_row(staff_client, quiz):
    response = add_question(staff_client, question_data(quiz=quiz, rows=[RIGHT, {"text": "Deployment"}]))
    assert_refused(response, "needs feedback saying why it is wrong")
    formset = next(formset for formset in response.context["inline_admin_formsets"])
    assert "feedback" in formset.formset.forms[1].errors


def test_changing_the_kind_is_checked_against_the_choices_on_the_page(staff_client):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["multiple"]  # two correct choices: right for multiple, wrong for single
    data = question_data(quiz=question.quiz, kind="single", rows=stored_rows(question), question=question)
    assert_refused(change_question(staff_client, question, data), "exactly one correct choice, not 2")
    question.refresh_from_db()
    assert question.kind == "multiple"


# --- A stale page: the choices it did not post count too ---


def test_a_stale_question_page_is_checked_with_the_choices_it_did_not_show(staff_client):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    before = sorted(question.choices.values_list("id", "text", "is_correct"))
    # Loaded before a colleague added StatefulSet as the right answer: Deployment ticked Correct.
    rows = [
        {**row, "correct": row["text"] == "Deployment"} for row in stored_rows(question) if row["text"] != "StatefulSet"
    ]
    data = question_data(quiz=question.quiz, rows=rows, question=question, prompt=question.prompt)
    response = change_question(staff_client, question, data)
    assert_refused(response, "A single-choice question has exactly one correct choice, not 2")
    assert "The page did not show the choice “StatefulSet”" in page_text(response)
    assert "Reload the page to see every choice, then make your change again." in page_text(response)
    assert sorted(question.choices.values_list("id", "text", "is_correct")) == before


def test_a_tampered_management_form_cannot_hide_the_stored_choices(staff_client):
    _, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    # No choice row at all, and the kind changed: the three stored choices would stay on a short question.
    data = question_data(quiz=question.quiz, kind="short", question=question, accepted_answers="StatefulSet")
    response = change_question(staff_client, question, data)
    assert_refused(response, "A short-answer question has no choices: delete them, or change the kind of question.")
    question.refresh_from_db()
    assert question.kind == "single"


def test_a_stale_question_page_that_keeps_the_rules_is_saved_with_the_choices_it_did_not_show(staff_client):
    quiz, questions, _ = factories.quiz_with_every_kind()
    question = questions["single"]
    rows = stored_rows(question, Deployment={"feedback": "Random suffixes, new on every rollout."})
    rows = [row for row in rows if row["text"] != "DaemonSet"]
    data = question_data(quiz=quiz, rows=rows, question=question, prompt=question.prompt)
    assert change_question(staff_client, question, data).status_code == 302
    assert sorted(question.choices.values_list("text", flat=True)) == ["DaemonSet", "Deployment", "StatefulSet"]
    assert question.choices.get(text="Deployment").feedback == "Random suffixes, new on every rollout."
    assert stored_quiz_problems(quiz) == []


# --- The same rules as the files ---

FILE_CASES = {
    "no correct choice": (
        {"kind": "single", "choices": [{"text": "A", "feedback": "no"}, {"text": "B", "feedback": "no"}]},
        QuestionFile("single", "p", "e", choices=[ChoiceFile("A", False, "no", 1), ChoiceFile("B", False, "no", 2)]),
    ),
    "one choice": (
        {"kind": "multiple", "choices": [{"text": "A", "correct": True}]},
        QuestionFile("multiple", "p", "e", choices=[ChoiceFile("A", True, "", 1)]),
    ),
    "two correct in a single-choice question": (
        {"kind": "single", "choices": [{"text": "A", "correct": True}, {"text": "B", "correct": True}]},
        QuestionFile("single", "p", "e", choices=[ChoiceFile("A", True, "", 1), ChoiceFile("B", True, "", 2)]),
    ),
    "short without answers": ({"kind": "short"}, QuestionFile("short", "p", "e")),
    "pattern that does not compile": (
        {"kind": "short", "pattern": "a("},
        QuestionFile("short", "p", "e", answer_pattern="a("),
    ),
    "kubectl command that cannot be read": (
        {"kind": "kubectl", "answers": ["get pods"]},
        QuestionFile("kubectl", "p", "e", accepted_answers=["get pods"]),
    ),
    "one ordering step": (
        {"kind": "ordering", "steps": ["Build"]},
        QuestionFile("ordering", "p", "e", choices=[ChoiceFile("Build", True, "", 1)]),
    ),
    "a pattern that takes too long": (
        {"kind": "short", "pattern": "(\\w|[a-z])+$"},
        QuestionFile("short", "p", "e", answer_pattern="(\\w|[a-z])+$"),
    ),
    "two choices that read the same": (
        {"kind": "single", "choices": [{"text": "Job", "correct": True}, {"text": "job", "feedback": "Twice."}]},
        QuestionFile(
            "single", "p", "e", choices=[ChoiceFile("Job", True, "", 1), ChoiceFile("job", False, "Twice.", 2)]
        ),
    ),
    "two steps that read the same": (
        {"kind": "ordering", "steps": ["Build", "Push", "build"]},
        QuestionFile(
            "ordering",
            "p",
            "e",
            choices=[
                ChoiceFile("Build", True, "", 1),
                ChoiceFile("Push", True, "", 2),
                ChoiceFile("build", True, "", 3),
            ],
        ),
    ),
}


def file_errors(question):
    errors = []
    reader = YamlFileReader(None, "x.quiz.yaml", errors)
    text = yaml.safe_dump({"questions": [{"prompt": "p", "explanation": "e", **question}]})
    read_quiz(reader, reader.parse_yaml(text), "x.quiz.yaml", final=False)
    return [error.message for error in errors]


@pytest.mark.parametrize("case", FILE_CASES)
def test_admin_refuses_what_the_file_check_refuses_by_the_same_rule(staff_client, quiz, case):
    in_file, stored = FILE_CASES[case]
    [problem] = question_problems(stored)
    assert file_errors(in_file) == [problem.in_file]
    rows = [{"text": c.text, "correct": c.is_correct, "feedback": c.feedback, "order": c.order} for c in stored.choices]
    data = question_data(
        quiz=quiz,
        kind=stored.kind,
        rows=rows,
        accepted_answers="\n".join(stored.accepted_answers),
        answer_pattern=stored.answer_pattern,
    )
    assert_refused(add_question(staff_client, data), problem.in_admin)


# --- A question leaving its published quiz ---


def published_quiz_with_one_question():
    quiz = factories.QuizFactory(is_published=True)
    question = factories.QuestionFactory(quiz=quiz, kind="short", accepted_answers=["yes"], order=1)
    return quiz, question


def test_deleting_the_last_question_of_a_published_quiz_is_refused(staff_client):
    _, question = published_quiz_with_one_question()
    url = reverse("admin:journeys_question_delete", args=[question.pk])
    response = staff_client.post(url, {"post": "yes"}, follow=True)
    assert "The question was not deleted. Deleting it would leave the published quiz" in page_text(response)
    assert "A published quiz needs at least one question: add one, or untick Published" in page_text(response)
    assert Question.objects.filter(pk=question.pk).exists()
    # The confirmation page is not even offered.
    assert staff_client.get(url).status_code == 302


def test_deleting_the_last_question_of_a_draft_quiz_is_allowed(staff_client):
    quiz, question = published_quiz_with_one_question()
    Quiz.objects.filter(pk=quiz.pk).update(is_published=False)
    response = staff_client.post(reverse("admin:journeys_question_delete", args=[question.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Question.objects.exists()


def test_bulk_deleting_every_question_of_a_published_quiz_is_refused(staff_client):
    quiz, question = published_quiz_with_one_question()
    other = factories.QuestionFactory(quiz=quiz, kind="short", accepted_answers=["no"], order=2)
    response = staff_client.post(
        reverse("admin:journeys_question_changelist"),
        {"action": "delete_selected", "_selected_action": [question.pk, other.pk], "post": "yes"},
        follow=True,
    )
    assert "No question was deleted. Deleting them would leave the published quiz" in page_text(response)
    assert quiz.questions.count() == 2


def test_bulk_deleting_questions_a_quiz_can_spare_still_works(staff_client):
    quiz, question = published_quiz_with_one_question()
    other = factories.QuestionFactory(quiz=quiz, kind="short", accepted_answers=["no"], order=2)
    response = staff_client.post(
        reverse("admin:journeys_question_changelist"),
        {"action": "delete_selected", "_selected_action": [other.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(quiz.questions.all()) == [question]


def test_deleting_below_the_draw_of_a_published_assessment_is_refused(staff_client):
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, draw=2)
    questions = [factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"]) for _ in range(2)]
    response = staff_client.post(
        reverse("admin:journeys_question_delete", args=[questions[0].pk]), {"post": "yes"}, follow=True
    )
    assert "The quiz draws 2 questions at random but has only 1: lower Draw, or add questions." in page_text(response)
    assert final.questions.count() == 2


def test_moving_the_last_question_out_of_a_published_quiz_is_refused(staff_client):
    quiz, question = published_quiz_with_one_question()
    other_quiz = factories.QuizFactory()
    data = question_data(quiz=other_quiz, kind="short", accepted_answers="yes", question=question)
    response = change_question(staff_client, question, data)
    assert_refused(response, "Moving this question to another quiz would leave the published quiz")
    question.refresh_from_db()
    assert question.quiz_id == quiz.pk


# --- The quiz page (the quiz with its questions inline) ---


def quiz_data(quiz, *, rows=None, new=(), **changes):
    """The quiz page's POST: its fields (``changes`` override them), its stored questions, then new ones.

    ``rows``: {question: {"delete": True, or field changes}} for stored questions.
    """
    values = {
        "journey": quiz.journey_id,
        "lesson": quiz.lesson_id or "",
        "is_final": quiz.is_final,
        "title": quiz.title,
        "is_published": quiz.is_published,
        "pass_mark": quiz.pass_mark,
        "reveal": quiz.reveal,
        "reveal_after_attempts": quiz.reveal_after_attempts,
        "draw": quiz.draw if quiz.draw is not None else "",
    }
    values.update(changes)
    data = {key: ("on" if value is True else value) for key, value in values.items() if value is not False}
    stored = list(quiz.questions.order_by("order", "id")) if quiz.pk else []
    rows = rows or {}
    all_rows = [(question, rows.get(question, {})) for question in stored] + [(None, row) for row in new]
    data.update(
        {
            "questions-TOTAL_FORMS": len(all_rows),
            "questions-INITIAL_FORMS": len(stored),
            "questions-MIN_NUM_FORMS": 0,
            "questions-MAX_NUM_FORMS": 1000,
        }
    )
    for index, (question, row) in enumerate(all_rows):
        prefix = f"questions-{index}-"
        if question is not None:
            data[prefix + "id"] = question.pk
            data[prefix + "quiz"] = quiz.pk
        data[prefix + "order"] = row.get("order", question.order if question else index + 1)
        data[prefix + "kind"] = row.get("kind", question.kind if question else "single")
        data[prefix + "prompt"] = row.get("prompt", question.prompt if question else "A new question?")
        data[prefix + "explanation"] = row.get("explanation", question.explanation if question else "Because.")
        if row.get("delete"):
            data[prefix + "DELETE"] = "on"
    return data


def change_quiz(client, quiz, data):
    return client.post(reverse("admin:journeys_quiz_change", args=[quiz.pk]), data)


@pytest.fixture
def live_quiz():
    quiz, questions, _ = factories.quiz_with_every_kind()
    return quiz, questions


def test_a_valid_change_on_the_quiz_page_is_saved(staff_client, live_quiz):
    quiz, questions = live_quiz
    data = quiz_data(quiz, pass_mark=70, rows={questions["short"]: {"prompt": "Which restart policy?"}})
    response = change_quiz(staff_client, quiz, data)
    assert response.status_code == 302, page_text(response)[:3000]
    quiz.refresh_from_db()
    assert quiz.pass_mark == 70 and quiz.questions.get(pk=questions["short"].pk).prompt == "Which restart policy?"


def test_adding_an_unfinished_question_to_a_published_quiz_is_refused_naming_it(staff_client, live_quiz):
    quiz, _ = live_quiz
    data = quiz_data(quiz, new=[{"kind": "single", "order": 7, "prompt": "Which object runs once per node?"}])
    response = change_quiz(staff_client, quiz, data)
    assert_refused(
        response,
        "Question 7 “Which object runs once per node?”: A single-choice question needs at least two choices",
    )
    assert "untick Published, save the quiz as a draft, then open the question" in page_text(response)
    assert quiz.questions.count() == 6


def test_a_stale_quiz_page_cannot_publish_a_question_it_did_not_show(staff_client, live_quiz):
    quiz, _ = live_quiz
    Quiz.objects.filter(pk=quiz.pk).update(is_published=False)
    quiz.refresh_from_db()
    page_loaded_earlier = quiz_data(quiz, is_published=True)
    factories.QuestionFactory(quiz=quiz, kind="single", order=7, prompt="Unfinished")  # a colleague's draft
    response = change_quiz(staff_client, quiz, page_loaded_earlier)
    assert_refused(response, "Question 7 “Unfinished”: A single-choice question needs at least two choices")
    assert "The page did not show Question 7 “Unfinished”: it was probably added since the page was loaded." in (
        page_text(response)
    )
    assert not Quiz.objects.get(pk=quiz.pk).is_published


def test_a_stale_quiz_page_publishes_when_the_questions_it_did_not_show_are_complete(staff_client, live_quiz):
    quiz, _ = live_quiz
    Quiz.objects.filter(pk=quiz.pk).update(is_published=False)
    quiz.refresh_from_db()
    page_loaded_earlier = quiz_data(quiz, is_published=True)
    factories.QuestionFactory(quiz=quiz, kind="short", order=7, accepted_answers=["Never"])
    assert change_quiz(staff_client, quiz, page_loaded_earlier).status_code == 302
    quiz.refresh_from_db()
    assert quiz.is_published and quiz.questions.count() == 7 and stored_quiz_problems(quiz) == []


def test_a_question_out_of_place_on_the_quiz_page_is_refused_in_a_draft_too(staff_client, live_quiz):
    quiz, questions = live_quiz
    data = quiz_data(quiz, is_published=False, rows={questions["short"]: {"order": 40000}})
    response = change_quiz(staff_client, quiz, data)
    assert_refused(response, "Order must be a whole number from 0 to 10000.")
    assert Question.objects.get(pk=questions["short"].pk).order == 4


def test_a_draft_quiz_takes_an_unfinished_question_and_hides_it_from_learners(staff_client, client, live_quiz):
    quiz, _ = live_quiz
    data = quiz_data(quiz, is_published=False, new=[{"kind": "kubectl", "order": 7, "prompt": "List the Pods."}])
    response = change_quiz(staff_client, quiz, data)
    assert response.status_code == 302, page_text(response)[:3000]
    quiz.refresh_from_db()
    assert not quiz.is_published and quiz.questions.count() == 7

    learner = client.__class__()
    lesson_page = page_text(learner.get(quiz.lesson.get_absolute_url()))
    assert 'id="quiz"' not in lesson_page
    assert learner.get(reverse("journeys:quiz", args=[quiz.pk])).status_code == 404
    # Staff see why the quiz is held back, and where to fix it.
    staff_page = page_text(staff_client.get(quiz.lesson.get_absolute_url()))
    assert "This quiz is a draft, and it cannot be tried until it is complete" in staff_page
    assert "Question 7 “List the Pods.”: A kubectl question needs at least one accepted command" in staff_page

    # Publishing it again is refused until the question is finished ...
    response = change_quiz(staff_client, quiz, quiz_data(quiz, is_published=True))
    assert_refused(response, "Question 7 “List the Pods.”: A kubectl question needs at least one accepted command")
    assert "Fix each question on its own page (its Change link)" in page_text(response)
    # ... on its own page, after which the quiz goes live.
    question = quiz.questions.get(order=7)
    data = question_data(quiz=quiz, kind="kubectl", accepted_answers="kubectl get pods", question=question, order=7)
    data["prompt"] = "List the Pods."
    assert change_question(staff_client, question, data).status_code == 302
    assert change_quiz(staff_client, quiz, quiz_data(quiz, is_published=True)).status_code == 302
    assert 'id="quiz"' in page_text(learner.get(quiz.lesson.get_absolute_url()))


def test_changing_a_question_kind_inline_is_checked_against_its_stored_choices(staff_client, live_quiz):
    quiz, questions = live_quiz
    data = quiz_data(quiz, rows={questions["multiple"]: {"kind": "single"}})
    response = change_quiz(staff_client, quiz, data)
    assert_refused(response, "A single-choice question has exactly one correct choice, not 2")
    assert Question.objects.get(pk=questions["multiple"].pk).kind == "multiple"


def test_deleting_every_question_of_a_published_quiz_is_refused(staff_client, live_quiz):
    quiz, questions = live_quiz
    data = quiz_data(quiz, rows={question: {"delete": True} for question in questions.values()})
    response = change_quiz(staff_client, quiz, data)
    assert_refused(
        response, "A published quiz needs at least one question: add one, or untick Published to keep the quiz a draft."
    )
    assert quiz.questions.count() == 6


def test_a_new_quiz_without_questions_cannot_be_published_but_can_be_a_draft(staff_client):
    lesson = factories.LessonFactory()
    data = quiz_data(Quiz(journey=lesson.journey, lesson=lesson), is_published=True)
    response = staff_client.post(reverse("admin:journeys_quiz_add"), data)
    assert_refused(response, "A published quiz needs at least one question")
    assert not Quiz.objects.exists()
    data = quiz_data(Quiz(journey=lesson.journey, lesson=lesson), is_published=False)
    assert staff_client.post(reverse("admin:journeys_quiz_add"), data).status_code == 302
    assert Quiz.objects.get().is_published is False


def test_the_add_page_starts_a_quiz_as_a_draft(staff_client):
    response = staff_client.get(reverse("admin:journeys_quiz_add"))
    assert response.context["adminform"].form.initial["is_published"] is False


PASS_MARK_RANGE = "The pass mark is a percentage: use a whole number from 0 to 100."
REFUSED_QUIZ_FIELDS = {
    "pass mark over 100": ({"pass_mark": 101}, "pass_mark", PASS_MARK_RANGE),
    "pass mark below 0": ({"pass_mark": -1}, "pass_mark", PASS_MARK_RANGE),
    "reveal after 0 attempts": (
        {"reveal": "after_attempts", "reveal_after_attempts": 0},
        "reveal_after_attempts",
        "Reveal the answers after 1 attempt or more.",
    ),
    "reveal after 40000 attempts (more than the column holds)": (
        {"reveal": "after_attempts", "reveal_after_attempts": 40000},
        "reveal_after_attempts",
        "Reveal the answers after 1 to 100 attempts.",
    ),
    "draw on a lesson's quiz": (
        {"draw": 2},
        "draw",
        "Only a final assessment draws questions at random: leave Draw empty for a lesson's quiz.",
    ),
    "final assessment on a lesson": (
        {"is_final": True},
        "lesson",
        "A final assessment belongs to the journey, not to a lesson: clear Lesson.",
    ),
    "lesson quiz without a lesson": (
        {"lesson": ""},
        "lesson",
        "A lesson's quiz needs its lesson: choose it, or tick Final assessment.",
    ),
}


@pytest.mark.parametrize("case", REFUSED_QUIZ_FIELDS)
def test_quiz_fields_that_break_a_rule_are_refused(staff_client, live_quiz, case):
    quiz, _ = live_quiz
    changes, field, message = REFUSED_QUIZ_FIELDS[case]
    response = change_quiz(staff_client, quiz, quiz_data(quiz, **changes))
    assert_refused(response, message)
    assert response.context["adminform"].form.errors[field] == [message]
    assert Quiz.objects.get(pk=quiz.pk).pass_mark == quiz.pass_mark


@pytest.mark.parametrize(
    ("draw", "message"),
    [
        (0, "Draw must be 1 or more"),
        (4, "The quiz draws 4 questions at random but has only 3: lower Draw"),
        (40000, "A final assessment draws at most 100 questions: lower Draw, or leave it empty"),
    ],
)
def test_an_assessment_draw_outside_its_questions_is_refused(staff_client, draw, message):
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, draw=2)
    for _ in range(3):
        factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"])
    assert_refused(change_quiz(staff_client, final, quiz_data(final, draw=draw)), message)
    assert change_quiz(staff_client, final, quiz_data(final, draw=3)).status_code == 302
    assert Quiz.objects.get(pk=final.pk).draw == 3


def test_a_new_second_final_assessment_is_refused_naming_the_first(staff_client):
    journey = factories.JourneyFactory()
    factories.QuizFactory(lesson=None, journey=journey, is_final=True, title="Final exam")
    data = quiz_data(Quiz(journey=journey), is_final=True, is_published=False, title="Another final")
    response = staff_client.post(reverse("admin:journeys_quiz_add"), data)
    assert_refused(
        response,
        f"The journey “{journey}” already has a final assessment, “Final exam”, and a journey has only one: "
        "untick Final assessment, or change that one instead.",
    )
    assert Quiz.objects.filter(journey=journey).count() == 1


# --- Bulk actions and the quiz list ---


def broken_published_quiz():
    """A published quiz saved before admin checked questions: a single choice question without choices."""
    quiz = factories.QuizFactory(title="Broken quiz")
    factories.QuestionFactory(quiz=quiz, kind="single", order=1, prompt="Pick one")
    return quiz


def test_the_publish_action_publishes_only_quizzes_that_break_no_rule(staff_client, live_quiz):
    quiz, _ = live_quiz
    broken = broken_published_quiz()
    Quiz.objects.update(is_published=False)
    response = staff_client.post(
        reverse("admin:journeys_quiz_changelist"),
        {"action": "publish_quizzes", "_selected_action": [quiz.pk, broken.pk]},
        follow=True,
    )
    text = page_text(response)
    assert "1 quiz(zes) published." in text
    assert f"“{broken}” was not published. Question 1 “Pick one”: A single-choice question needs at least two" in text
    assert Quiz.objects.get(pk=quiz.pk).is_published and not Quiz.objects.get(pk=broken.pk).is_published


def test_the_unpublish_action_hides_quizzes(staff_client, live_quiz, client):
    quiz, _ = live_quiz
    staff_client.post(
        reverse("admin:journeys_quiz_changelist"), {"action": "unpublish_quizzes", "_selected_action": [quiz.pk]}
    )
    assert not Quiz.objects.get(pk=quiz.pk).is_published
    assert 'id="quiz"' not in client.__class__().get(quiz.lesson.get_absolute_url()).content.decode()


def test_the_quiz_list_and_page_say_what_keeps_a_quiz_from_learners(staff_client, live_quiz):
    broken = broken_published_quiz()
    listing = page_text(staff_client.get(reverse("admin:journeys_quiz_changelist")))
    assert "What keeps it from learners" in listing
    assert "Question 1 “Pick one”: A single-choice question needs at least two choices" in listing
    page = page_text(staff_client.get(reverse("admin:journeys_quiz_change", args=[broken.pk])))
    assert "Question 1 “Pick one”: A single-choice question needs at least two choices" in page


def test_a_published_quiz_that_breaks_a_rule_is_not_served_to_learners(client, staff_client):
    # Saved before admin checked questions: no learner could have submitted it.
    broken = broken_published_quiz()
    assert 'id="quiz"' not in client.__class__().get(broken.lesson.get_absolute_url()).content.decode()
    assert client.__class__().get(reverse("journeys:quiz", args=[broken.pk])).status_code == 404
    staff_page = page_text(staff_client.get(broken.lesson.get_absolute_url()))
    assert "This quiz is published, but learners cannot take it until it is fixed" in staff_page


def test_publishing_lessons_says_which_quiz_stays_hidden(staff_client):
    broken = broken_published_quiz()
    draft = factories.QuizFactory(is_published=False)
    factories.QuestionFactory(quiz=draft, kind="short", accepted_answers=["yes"])
    lessons = [broken.lesson.pk, draft.lesson.pk]
    response = staff_client.post(
        reverse("admin:journeys_lesson_changelist"), {"action": "publish", "_selected_action": lessons}, follow=True
    )
    text = page_text(response)
    assert "2 lesson(s) published." in text
    assert f"The lesson “{broken.lesson}” is published without its quiz: it cannot be taken yet. Question 1" in text
    assert f"The lesson “{draft.lesson}” is published without its quiz: it is a draft" in text


def test_every_quiz_of_the_curriculum_saves_unchanged_in_admin(staff_client, curriculum):
    quizzes = list(Quiz.objects.all())
    quiz_files = list(CONTENT_DIR.glob("*/*.quiz.yaml")) + list(CONTENT_DIR.glob("*/final-assessment.yaml"))
    assert len(quizzes) == len(quiz_files) >= 15
    for quiz in quizzes:
        response = change_quiz(staff_client, quiz, quiz_data(quiz))
        assert response.status_code == 302, f"{quiz}: {page_text(response)[:2000]}"
    final = Quiz.objects.get(is_final=True)
    question = final.questions.filter(kind="single").first()
    data = question_data(quiz=final, kind="single", rows=stored_rows(question), question=question, order=question.order)
    data.update(prompt=question.prompt, explanation=question.explanation, wrong_feedback=question.wrong_feedback)
    assert change_question(staff_client, question, data).status_code == 302


# --- Two editors at once (PostgreSQL: SQLite writes one transaction at a time) ---


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_publishing_waits_for_a_colleague_saving_a_question_of_the_same_quiz():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every write, so there is no race to test")
    quiz, _, _ = factories.quiz_with_every_kind()
    Quiz.objects.filter(pk=quiz.pk).update(is_published=False)
    quiz.refresh_from_db()
    page_loaded_earlier = quiz_data(quiz, is_published=True)
    editor = Client()
    editor.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    saving = threading.Event()

    def colleague_saves_a_question():
        # What the question page does: lock the quiz, save the question, commit a moment later.
        try:
            with transaction.atomic():
                Quiz.objects.select_for_update().get(pk=quiz.pk)
                factories.QuestionFactory(quiz=quiz, kind="single", order=7, prompt="Unfinished")
                saving.set()
                time.sleep(0.5)
        finally:
            connections.close_all()

    colleague = threading.Thread(target=colleague_saves_a_question)
    colleague.start()
    assert saving.wait(timeout=10)
    response = change_quiz(editor, quiz, page_loaded_earlier)  # waits for the colleague's commit
    colleague.join(timeout=10)
    assert_refused(response, "Question 7 “Unfinished”: A single-choice question needs at least two choices")
    assert not Quiz.objects.get(pk=quiz.pk).is_published
