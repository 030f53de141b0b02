"""Grading of every question kind, as pure functions."""

import logging
import time

import pytest

from journeys.quizzes import answer_patterns
from journeys.quizzes.forms import MAX_TEXT_ANSWER
from journeys.quizzes.grading import ChoiceSpec, QuestionSpec, grade_question, grade_quiz, normalise_text

SINGLE = QuestionSpec(
    1,
    "single",
    choices=(
        ChoiceSpec(11, "StatefulSet", True, "Right: stable names."),
        ChoiceSpec(12, "Deployment", False, "Deployment Pods get random names."),
    ),
)
MULTIPLE = QuestionSpec(
    2,
    "multiple",
    choices=(
        ChoiceSpec(21, "Job", True),
        ChoiceSpec(22, "CronJob", True),
        ChoiceSpec(23, "Deployment", False, "It restarts finished containers."),
        ChoiceSpec(24, "DaemonSet", False, "It keeps one Pod per Node running."),
    ),
)
SHORT = QuestionSpec(3, "short", accepted_answers=("OnFailure",), wrong_feedback="Think about restarts.")
PATTERN = QuestionSpec(4, "short", accepted_answers=("0 2 * * *",), answer_pattern=r"0?0 0?2 \* \* \*")
KUBECTL = QuestionSpec(5, "kubectl", accepted_answers=("kubectl get pods -n shop -o wide",))
ORDERING = QuestionSpec(
    6,
    "ordering",
    choices=(
        ChoiceSpec(61, "Authn", True, order=1),
        ChoiceSpec(62, "Authz", True, order=2),
        ChoiceSpec(63, "Admission", True, order=3),
    ),
)


def test_single_choice_right_and_wrong_with_feedback():
    right = grade_question(SINGLE, 11)
    assert (right.score, right.correct) == (1.0, True)
    wrong = grade_question(SINGLE, 12)
    assert (wrong.score, wrong.correct) == (0.0, False)
    assert wrong.choice_feedback == [(12, "Deployment Pods get random names.")]


def test_multiple_choice_all_or_nothing():
    assert grade_question(MULTIPLE, [21, 22]).score == 1.0
    partly = grade_question(MULTIPLE, [21])
    assert (partly.score, partly.correct, partly.missed_choice_ids) == (0.0, False, [22])
    wrong = grade_question(MULTIPLE, [21, 22, 23])
    assert wrong.score == 0.0 and (23, "It restarts finished containers.") in wrong.choice_feedback


def test_multiple_choice_partial_credit():
    question = QuestionSpec(2, "multiple", choices=MULTIPLE.choices, partial_credit=True)
    assert grade_question(question, [21]).score == 0.5
    assert grade_question(question, [21, 23]).score == 0.0  # a wrong tick cancels a right one
    assert grade_question(question, [23, 24]).score == 0.0  # never below zero
    full = grade_question(question, [21, 22])
    assert (full.score, full.correct) == (1.0, True)


def test_true_false_is_graded_like_single_choice():
    question = QuestionSpec(
        7, "true_false", choices=(ChoiceSpec(71, "True", False, "RBAC only adds."), ChoiceSpec(72, "False", True))
    )
    assert grade_question(question, 72).correct
    wrong = grade_question(question, 71)
    assert not wrong.correct and wrong.choice_feedback == [(71, "RBAC only adds.")]


@pytest.mark.parametrize(
    "answer", ["OnFailure", "onfailure", "  On­Failure ".replace("\xad", ""), "`OnFailure`", "OnFailure.", '"onFailure"']
)
def test_short_answer_ignores_case_spaces_quotes_and_full_stop(answer):
    assert grade_question(SHORT, answer).correct


def test_short_answer_wrong_shows_feedback_and_canonical():
    outcome = grade_question(SHORT, "Always")
    assert (
        not outcome.correct and outcome.message == "Think about restarts." and outcome.canonical_answer == "OnFailure"
    )


@pytest.mark.parametrize(("answer", "correct"), [("00 02 * * *", True), ("0   2 * * *", True), ("0 3 * * *", False)])
def test_short_answer_pattern(answer, correct):
    assert grade_question(PATTERN, answer).correct is correct


NIGHTLY = QuestionSpec(8, "short", accepted_answers=("0 2 * * *",), wrong_feedback="Minute first, then hour.")
WEEKDAYS = QuestionSpec(9, "short", accepted_answers=("30 18 * * 1-5", "30 18 * * MON-FRI"))


@pytest.mark.parametrize(
    ("question", "answer", "correct"),
    [
        (NIGHTLY, "0 2 * * 0-6", True),  # every day of the week is every day
        (NIGHTLY, "0 2 1-31 * *", True),
        (NIGHTLY, "0 2 * 1-12 *", True),
        (NIGHTLY, "00 02 * * *", True),
        (NIGHTLY, "0 2 ? * *", True),
        (NIGHTLY, "0 2 */1 * sun-sat", True),
        (NIGHTLY, "`0 2 * * 0-6`", True),
        (NIGHTLY, "0 2 * * 1-5", False),  # weekdays only
        (NIGHTLY, "0 2 1-31 * 1-5", True),  # neither field is a star: a day matching either runs, so every day
        (NIGHTLY, "0 14 * * *", False),
        (NIGHTLY, "2 0 * * *", False),
        (NIGHTLY, "@daily", False),  # midnight
        (WEEKDAYS, "30 18 * * mon-fri", True),
        (WEEKDAYS, "30 18 * * 5,4,3,2,1", True),
        (WEEKDAYS, "30 18 * * 1-5/1", True),
        (WEEKDAYS, "30 18 1-31 * 1-5", False),  # every day, as the lab reads it
        (WEEKDAYS, "30 18 * * 0-5", False),
    ],
)
def test_a_schedule_answer_is_compared_by_meaning_as_in_the_lab(question, answer, correct):
    assert grade_question(question, answer).correct is correct


def test_a_schedule_kubernetes_would_refuse_is_explained():
    outcome = grade_question(NIGHTLY, "0 2 * * 7")
    assert not outcome.correct
    assert outcome.message.startswith("Kubernetes would refuse this schedule: ") and "Sunday as 0" in outcome.message
    assert outcome.message.endswith("Minute first, then hour.")


def test_only_five_field_schedules_among_the_accepted_answers_are_compared_by_meaning():
    mixed = QuestionSpec(10, "short", accepted_answers=("0 2 * * *", "two in the morning"))
    assert grade_question(mixed, "0 2 * * 0-6").correct and grade_question(mixed, "Two in the morning").correct
    descriptor = QuestionSpec(11, "short", accepted_answers=("@daily",))  # it may ask for the descriptor itself
    assert not grade_question(descriptor, "0 0 * * *").correct
    assert not grade_question(SHORT, "0 2 * * *").correct and grade_question(SHORT, "Always").message


def test_normalise_text():
    assert normalise_text("  Cluster   IP. ") == "cluster ip"


@pytest.mark.parametrize(
    "answer",
    [
        "kubectl get pods -n shop -o wide",
        "kubectl get po --namespace=shop --output wide",
        "kubectl -o wide -n shop get pod",
    ],
)
def test_kubectl_answers_differing_only_in_flag_order_or_aliases_are_right(answer):
    outcome = grade_question(KUBECTL, answer)
    assert outcome.correct and outcome.canonical_answer == "kubectl get pods -n shop -o wide"


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        ("kubectl describe pods -n shop -o wide", "different kubectl verb"),
        ("kubectl get svc -n shop -o wide", "resource type"),
        ("kubectl get pods -n shop", "which flags"),
        ("kubectl get pods -n prod -o wide", "values of your flags"),
        ("kubectl get pods -n 'shop", "check your quotes"),
    ],
)
def test_wrong_kubectl_answers_get_a_hint(answer, hint):
    outcome = grade_question(KUBECTL, answer)
    assert not outcome.correct and hint in outcome.message


def test_ordering():
    assert grade_question(ORDERING, [61, 62, 63]).correct
    wrong = grade_question(ORDERING, [62, 61, 63])
    assert not wrong.correct and wrong.message == "1 of 3 steps are in the right place."


def test_grade_quiz_scores_in_percent_against_the_pass_mark():
    answers = {1: 11, 2: [21], 3: "OnFailure", 5: "kubectl get pods -n shop -o wide", 6: [61, 62, 63]}
    questions = [SINGLE, MULTIPLE, SHORT, KUBECTL, ORDERING]
    outcomes, score, passed = grade_quiz(questions, answers, pass_mark=80)
    assert [outcome.correct for outcome in outcomes] == [True, False, True, True, True]
    assert (score, passed) == (80.0, True)
    assert grade_quiz(questions, answers, pass_mark=81)[2] is False


# --- Answer patterns: bounded in time however they were written ---


def test_a_pattern_that_backtracks_is_cut_off_and_counts_as_not_matched(caplog):
    question = QuestionSpec(10, "short", answer_pattern="(a|aa)+$", wrong_feedback="Only a's.")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="journeys.quizzes.grading"):
        outcome = grade_question(question, "a" * 40 + "!")  # unbounded, hours of backtracking
    assert time.monotonic() - started < 1
    assert (outcome.correct, outcome.message) == (False, "Only a's.")
    [record] = [record for record in caplog.records if "question 10" in record.getMessage()]
    assert "counted as not matched" in record.getMessage()
    assert grade_question(question, "aaaa").correct  # a fair answer is still matched


def test_a_pattern_that_does_not_compile_counts_as_not_matched(caplog):
    question = QuestionSpec(11, "short", accepted_answers=("Never",), answer_pattern="on(failure")
    with caplog.at_level(logging.WARNING, logger="journeys.quizzes.grading"):
        assert not grade_question(question, "OnFailure").correct
    assert grade_question(question, "never").correct
    assert any("cannot be used" in record.getMessage() for record in caplog.records)


def test_patterns_are_probed_with_answers_as_long_as_a_form_takes():
    assert answer_patterns.PROBE_LENGTH >= MAX_TEXT_ANSWER


@pytest.mark.parametrize("pattern", ["(a|aa)+$", "(a|a)*b", "(\\w|[a-z])+$", "(.*){1,32000}x"])
def test_a_pattern_that_backtracks_is_found_slow_on_the_probes(pattern):
    assert answer_patterns.is_too_slow(pattern)


@pytest.mark.parametrize(
    "pattern",
    ["(\\w+\\s)*\\w+", "0?0 0?2 \\* \\* \\*", "(--)?recursive", "((-o|--output)\\s*=?\\s*)?name", "on\\s*failure"],
)
def test_a_pattern_that_matches_in_linear_time_passes_the_probes(pattern):
    assert not answer_patterns.is_too_slow(pattern)
