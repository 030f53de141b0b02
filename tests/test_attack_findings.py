"""Findings of the attack on kubectl answer grading and on quiz validation (admin and files).

Each test states what *should* happen and is marked ``xfail(strict=True)`` because it does not
happen yet: when a finding is fixed, its test starts passing, strict xfail turns that into a
failure, and the marker is removed. Evidence from a real kubectl (1.37 from `make install-dev`,
1.32 at /usr/bin/kubectl) is quoted in each reason; "the same request" was checked by pointing
kubectl at a recording fake API server and comparing the HTTP requests it sent.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from journeys.content_files import read_curriculum
from journeys.grading import QuestionSpec, grade_question
from journeys.kubectl_command import commands_match
from journeys.models import Quiz, QuizAttempt
from journeys.quiz_files import ChoiceFile, QuestionFile
from journeys.quiz_rules import question_problems, stored_quiz_problems
from tests import factories
from tests.test_admin_quizzes import (
    add_question,
    change_question,
    change_quiz,
    page_text,
    question_data,
    quiz_data,
    stored_rows,
)
from tests.test_loader import LESSON_DIR
from tests.test_quizzes import TOKEN, open_quiz, submit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def kubectl_question(*accepted):
    return QuestionSpec(id=1, kind="kubectl", accepted_answers=tuple(accepted))


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
@pytest.mark.xfail(
    strict=True,
    reason="An open quiz form carries no version of the questions: after an admin turns a single-choice "
    "question into a short-answer one, the learner's submitted choice id ('1') is graded as the short "
    "text '1' and recorded as wrong, instead of the form being refused as out of date (409).",
)
def test_an_open_form_is_not_graded_against_a_question_whose_kind_changed_since(staff_client):
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
    # Today: 200 and an attempt in which the learner's right answer counts as wrong.
    assert not QuizAttempt.objects.exists(), list(QuizAttempt.objects.values_list("answers", "score"))
    assert response.status_code == 409


@pytest.mark.django_db
@pytest.mark.xfail(
    strict=True,
    reason="A final assessment's draw is recomputed from the seed over the *current* pool: one question "
    "added in admin changes every open form's draw, so a learner who answered the questions shown gets "
    "400 'The form contained an answer to a question that is not in this quiz.' (worded as tampering) "
    "and the reloaded form shows a different set of questions: their answers are lost.",
)
def test_adding_a_question_to_a_drawn_assessment_keeps_open_forms_submittable(staff_client):
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, draw=2)
    for order in range(4):
        factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"], order=order)
    learner = Client()
    page = learner.get(reverse("journeys:assessment", args=[journey.slug])).content.decode()
    token = TOKEN.search(page).group(1)
    shown = sorted({int(number) for number in re.findall(r'name="q(\d+)"', page)})
    assert len(shown) == 2
    data = question_data(quiz=final, kind="short", accepted_answers="b", order=9)
    assert add_question(staff_client, data).status_code == 302
    response = learner.post(
        reverse("journeys:quiz_submit", args=[final.pk]),
        {**{f"q{number}": "a" for number in shown}, "token": token},
        headers={"HX-Request": "true"},
    )
    assert "not in this quiz" not in page_text(response)
    assert response.status_code == 409 or QuizAttempt.objects.count() == 1, response.status_code


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
        "from journeys.grading import QuestionSpec, grade_question\n"
        f"grade_question(QuestionSpec(id=1, kind='short', answer_pattern={pattern!r}), 'a' * 40 + '!')\n"
    )
    try:
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=5, check=True, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("grading one 41-character answer against an admin-saved pattern took over 5 s")


# =================================================================================================
# kubectl answers: different requests accepted (a learner learns a wrong command)
# =================================================================================================


@pytest.mark.xfail(
    strict=True,
    reason="_find_command lowercases command words; cobra matches them case-sensitively: "
    '`kubectl GET pods` -> \'error: unknown command "GET" for "kubectl"\', `kubectl config USE-CONTEXT prod` '
    "-> 'error: unknown command \"USE-CONTEXT prod\"', `kubectl top PO` -> 'error: unknown command \"PO\"'.",
)
@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl GET pods -l app=web -n shop", "kubectl get pods -l app=web -n shop"),
        ("kubectl Get pods -l app=web -n shop", "kubectl get pods -l app=web -n shop"),
        ("kubectl CONFIG USE-CONTEXT prod", "kubectl config use-context prod"),
        ("kubectl top PO -n shop", "kubectl top pods -n shop"),
    ],
)
def test_command_words_in_the_wrong_case_are_refused(typed, accepted):
    assert not commands_match(typed, accepted)


@pytest.mark.xfail(
    strict=True,
    reason="_canonical_arguments lowercases the verb of `auth can-i`; kubectl sends it as typed "
    "(SelfSubjectAccessReview with verb 'LIST', after 'Warning: verb 'LIST' is not a known verb') and "
    "RBAC compares verbs exactly, so the answer is 'no' for a role that allows list (lesson 07).",
)
def test_can_i_with_an_uppercase_verb_is_refused():
    accepted = "kubectl auth can-i list pods --as=system:serviceaccount:team-a:reporter -n team-a"
    typed = "kubectl auth can-i LIST pods --as=system:serviceaccount:team-a:reporter -n team-a"
    assert not commands_match(typed, accepted)


@pytest.mark.xfail(
    strict=True,
    reason="_canonical_type lowercases the whole type word; kubectl matches short names and API groups "
    "case-sensitively (only plural names and kinds are case-insensitive): `kubectl get PO` -> 'error: the "
    "server doesn't have a resource type \"PO\"', `describe QUOTA` likewise, `get deployment.APPS web` -> "
    '\'doesn\'t have a resource type "deployment" in group "APPS"\'. (`get PODS` and `get Pod` do work.)',
)
@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        ("kubectl get PO -n shop", "kubectl get pods -n shop"),
        ("kubectl describe QUOTA team-quota -n shop", "kubectl describe resourcequota team-quota -n shop"),
        ("kubectl get deployment.APPS api -n shop", "kubectl get deployment api -n shop"),
        (
            "kubectl create job backup-manual-1 --from=CJ/backup -n ops",
            "kubectl create job backup-manual-1 --from=cronjob/backup -n ops",
        ),
    ],
)
def test_short_names_and_groups_in_the_wrong_case_are_refused(typed, accepted):
    assert not commands_match(typed, accepted)


@pytest.mark.xfail(
    strict=True,
    reason="canonical_path drops './', so `-f ./-` (a file named '-') equals `-f -` (standard input).",
)
def test_a_file_named_dash_is_not_standard_input():
    assert not commands_match("kubectl apply -f ./-", "kubectl apply -f -")


# =================================================================================================
# kubectl answers: the same request refused
# =================================================================================================


@pytest.mark.xfail(
    strict=True,
    reason="Lesson 02 accepts only `--grace-period=0 --force`; kubectl 1.37 and 1.32 send the identical "
    "request for `--force` alone: DELETE /api/v1/namespaces/shop/pods/example-1 with body "
    '{"gracePeriodSeconds":0,"propagationPolicy":"Background"} (delete.go: --force with no '
    "--grace-period sets it to 0), and print the same 'force deleted' warning.",
)
def test_force_delete_without_grace_period_zero_is_accepted():
    question = kubectl_question("kubectl delete pod example-1 --grace-period=0 --force -n shop")
    assert grade_question(question, "kubectl delete pod example-1 --force -n shop").correct


@pytest.mark.xfail(
    strict=True,
    reason="Only boolean flags and dry-run/validate/cascade drop their default; a valued flag given its "
    "default is refused. `kubectl apply view-last-applied --help`: -o, --output='yaml' (output compared "
    "byte for byte: identical, final assessment); `kubectl explain --help`: -o, --output='plaintext'; "
    "`create deployment --replicas=1` (default 1) gives the identical manifest with --dry-run=client.",
)
@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        (
            "kubectl apply view-last-applied deployment/web -n shop -o yaml",
            "kubectl apply view-last-applied deployment/web -n shop",
        ),
        ("kubectl explain deployment.spec.strategy --output=plaintext", "kubectl explain deployment.spec.strategy"),
        (
            "kubectl create deployment web --image=nginx:1.27 --replicas=1 --dry-run=client -o yaml",
            "kubectl create deployment web --image=nginx:1.27 --dry-run=client -o yaml",
        ),
    ],
)
def test_a_valued_flag_given_its_default_is_accepted(typed, accepted):
    assert grade_question(kubectl_question(accepted), typed).correct


@pytest.mark.xfail(
    strict=True,
    reason="Every 'list' flag but --filename is compared item by item without splitting commas; pflag's "
    "StringSlice flags (--verb, --resource, -L ...) split them: `create role r --verb=get,list --resource=pods` "
    "and `--verb=get --verb=list` give the identical Role (verbs: [get, list]) with --dry-run=client.",
)
def test_a_string_slice_flag_given_with_commas_or_repeated_is_the_same():
    assert commands_match(
        "kubectl create role pod-reader --verb=get --verb=list --verb=watch --resource=pods -n team-a",
        "kubectl create role pod-reader --verb=get,list,watch --resource=pods -n team-a",
    )


@pytest.mark.xfail(
    strict=True,
    reason="Minor rewrites kubectl treats as the same: `-o jsonpath --template='{...}'` and `{$.x}` print "
    "exactly what `-o jsonpath='{...}'` prints (checked with create --dry-run=client); `--dry-run=True` "
    "is ParseBool's true and gives the same output as --dry-run=client (VALUE_MEANINGS knows only 'true').",
)
@pytest.mark.parametrize(
    ("typed", "accepted"),
    [
        (
            "kubectl get deployment api -n shop -o jsonpath --template='{.spec.template.spec.containers[0].image}'",
            "kubectl get deployment api -n shop -o jsonpath='{.spec.template.spec.containers[0].image}'",
        ),
        (
            "kubectl get deployment api -n shop -o jsonpath='{$.spec.template.spec.containers[0].image}'",
            "kubectl get deployment api -n shop -o jsonpath='{.spec.template.spec.containers[0].image}'",
        ),
        (
            "kubectl create deployment web --image=nginx:1.27 --replicas=2 --dry-run=True -o yaml",
            "kubectl create deployment web --image=nginx:1.27 --replicas=2 --dry-run=client -o yaml",
        ),
    ],
)
def test_minor_rewrites_kubectl_treats_as_the_same_are_accepted(typed, accepted):
    assert commands_match(typed, accepted)


# =================================================================================================
# Files and admin: one rule set?
# =================================================================================================


@pytest.mark.django_db
def test_the_file_check_refuses_a_reveal_after_attempts_the_database_cannot_store(content_copy):
    from journeys.content_files import CurriculumError

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

    from journeys.content_files import CurriculumError

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
