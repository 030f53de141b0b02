"""Taking quizzes through the site: htmx and plain posts, shuffling, reveal rules, tampering, double submits."""

import re
import time

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from journeys.models import LessonProgress, QuestionResponse, Quiz, QuizAttempt
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def quiz_setup():
    return factories.quiz_with_every_kind()


def open_quiz(client, quiz):
    page = client.get(quiz.lesson.get_absolute_url()).content.decode()
    return TOKEN.search(page).group(1), page


def submit(client, quiz, data, *, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers=headers)


def test_lesson_page_shows_every_kind_of_question(client, quiz_setup):
    quiz, questions, _ = quiz_setup
    _, page = open_quiz(client, quiz)
    assert 'id="quiz"' in page and "Check my answers" in page
    assert f'type="radio" name="q{questions["single"].id}"' in page
    assert f'type="checkbox" name="q{questions["multiple"].id}"' in page
    assert f'name="q{questions["short"].id}"' in page
    assert f'name="q{questions["kubectl"].id}"' in page
    ordering = questions["ordering"]
    for choice in ordering.choices.all():
        assert f'<select id="q{ordering.id}-{choice.id}" name="q{ordering.id}-{choice.id}">' in page


def test_reading_a_quiz_starts_no_session(client, quiz_setup):
    quiz, _, _ = quiz_setup
    open_quiz(client, quiz)
    assert settings.SESSION_COOKIE_NAME not in client.cookies


def test_choice_order_is_shuffled_per_attempt_and_stable_on_reload(client, user, quiz_setup):
    quiz, questions, right = quiz_setup
    client.force_login(user)
    token, first = open_quiz(client, quiz)
    time.sleep(1.1)  # the signed token carries a timestamp in seconds: a reload must still show the same form
    _, again = open_quiz(client, quiz)
    assert TOKEN.search(again).group(1) == token

    def order(page):
        return re.findall(rf'name="q{questions["ordering"].id}-(\d+)"', page)

    assert order(first) == order(again)
    assert order(first) != [str(c.id) for c in questions["ordering"].choices.order_by("order")]  # never pre-solved
    submit(client, quiz, {**right, "token": token})
    new_token, _ = open_quiz(client, quiz)
    assert new_token != token


def test_htmx_submit_returns_feedback_without_a_page(client, quiz_setup):
    quiz, questions, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    wrong = {**right, f"q{questions['single'].id}": str(questions["single"].choices.get(text="Deployment").id)}
    response = submit(client, quiz, {**wrong, "token": token})
    content = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in content and 'id="quiz"' in content
    assert "83%" in content and "passed" in content
    assert "Deployment Pods get random suffixes." in content  # why the chosen wrong answer is wrong
    attempt = QuizAttempt.objects.get()
    assert (attempt.score, attempt.passed) == (pytest.approx(83.33, abs=0.01), True)
    assert attempt.responses.count() == 6
    assert LessonProgress.objects.get().completed_via == "quiz"


def test_plain_post_redirects_to_the_result_page(client, quiz_setup):
    quiz, _, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    response = submit(client, quiz, {**right, "token": token}, htmx=False)
    attempt = QuizAttempt.objects.get()
    assert response.status_code == 302 and response["Location"] == attempt.get_absolute_url()
    page = client.get(attempt.get_absolute_url()).content.decode()
    assert "100%" in page and "Why" in page  # passed, so explanations are revealed


def test_answers_are_hidden_until_the_reveal_rule_allows(client, quiz_setup):
    quiz, questions, right = quiz_setup
    wrong = {**right, f"q{questions['short'].id}": "Always", f"q{questions['kubectl'].id}": "kubectl get svc"}
    wrong[f"q{questions['multiple'].id}"] = [str(questions["multiple"].choices.first().id)]
    token, _ = open_quiz(client, quiz)
    content = submit(client, quiz, {**wrong, "token": token}).content.decode()
    assert "not passed yet" in content
    assert "Accepted answer" not in content and "kubectl get pods -n shop" not in content
    assert "appear once you pass" in content

    Quiz.objects.filter(pk=quiz.pk).update(reveal="after_attempts", reveal_after_attempts=2)
    token, _ = open_quiz(client, quiz)
    content = submit(client, quiz, {**wrong, "token": token}).content.decode()
    assert "Accepted answer: <code>OnFailure</code>" in content
    assert "A command that works: <code>kubectl get pods -n shop</code>" in content


def test_double_submit_records_one_attempt(client, quiz_setup):
    quiz, _, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    first = submit(client, quiz, {**right, "token": token})
    second = submit(client, quiz, {**right, "token": token})
    assert first.status_code == second.status_code == 200
    assert QuizAttempt.objects.count() == 1
    assert QuestionResponse.objects.count() == 6


@pytest.mark.parametrize(
    ("tamper", "status", "message"),
    [
        ("other-question-choice", 400, "not one of its choices"),
        ("unknown-choice", 400, "not one of its choices"),
        ("unknown-question", 400, "not in this quiz"),
        ("not-a-number", 400, "not one of its choices"),
        ("repeated-field", 400, "more than one answer"),
        ("missing-answer", 422, "has no answer yet"),
        ("oversized-text", 422, "longer than 500 characters"),
        ("ordering-duplicate-position", 422, "different position"),
        ("ordering-out-of-range", 400, "outside 1–3"),
        ("stale-token", 409, "out of date"),
        ("garbage-token", 400, "damaged"),
    ],
)
def test_tampered_or_incomplete_submissions_are_refused_and_record_nothing(
    client, quiz_setup, settings, tamper, status, message
):
    quiz, questions, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    data = {**right, "token": token}
    single, ordering = questions["single"], questions["ordering"]
    other = factories.ChoiceFactory()
    if tamper == "other-question-choice":
        data[f"q{single.id}"] = str(questions["multiple"].choices.first().id)
    elif tamper == "unknown-choice":
        data[f"q{single.id}"] = "999999"
    elif tamper == "unknown-question":
        data[f"q{other.question_id}"] = str(other.id)
    elif tamper == "not-a-number":
        data[f"q{single.id}"] = "abc"
    elif tamper == "repeated-field":
        data[f"q{single.id}"] = [str(choice.id) for choice in single.choices.all()[:2]]
    elif tamper == "missing-answer":
        del data[f"q{questions['short'].id}"]
    elif tamper == "oversized-text":
        data[f"q{questions['short'].id}"] = "x" * 501
    elif tamper == "ordering-duplicate-position":
        for choice in ordering.choices.all():
            data[f"q{ordering.id}-{choice.id}"] = "1"
    elif tamper == "ordering-out-of-range":
        data[f"q{ordering.id}-{ordering.choices.first().id}"] = "7"
    elif tamper == "stale-token":
        settings.QUIZ_FORM_MAX_AGE = -1
    elif tamper == "garbage-token":
        data["token"] = token[:-3] + "abc"
    response = submit(client, quiz, data)
    assert response.status_code == status
    content = response.content.decode()
    assert message in content and "Your answers were not submitted." in content
    assert 'name="token"' in content  # the form comes back so the learner can fix it
    assert not QuizAttempt.objects.exists() and not QuestionResponse.objects.exists()
    assert not LessonProgress.objects.filter(completed_at__isnull=False).exists()


def test_a_refused_submission_keeps_the_learners_answers(client, quiz_setup):
    quiz, questions, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    data = {**right, "token": token, f"q{questions['kubectl'].id}": "kubectl get po"}
    del data[f"q{questions['short'].id}"]
    content = submit(client, quiz, data).content.decode()
    chosen = right[f"q{questions['single'].id}"]
    assert 'value="kubectl get po"' in content
    assert f'value="{chosen}" checked' in content


def test_quiz_of_an_unpublished_lesson_is_404_and_records_nothing(client, quiz_setup):
    quiz, _, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    quiz.lesson.is_published = False
    quiz.lesson.save()
    response = submit(client, quiz, {**right, "token": token})
    assert response.status_code == 404
    assert not QuizAttempt.objects.exists()


def test_final_assessment_draws_questions_from_the_pool(client):
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, title="Final assessment", draw=3)
    for index in range(6):
        question = factories.QuestionFactory(quiz=final, kind="short", accepted_answers=[f"answer {index}"])
        assert question.pk
    page = client.get(reverse("journeys:assessment", args=[journey.slug])).content.decode()
    assert page.count('type="text"') == 3
    token = TOKEN.search(page).group(1)
    shown = [int(qid) for qid in re.findall(r'name="q(\d+)"', page)]
    data = {"token": token, **{f"q{qid}": "wrong" for qid in shown}}
    response = submit(client, final, data, htmx=False)
    attempt = QuizAttempt.objects.get()
    assert response.status_code == 302 and attempt.question_ids == shown


def test_the_assessment_introduction_says_how_many_questions_are_drawn(client, curriculum):
    # It said "0 questions": `quiz.draw|default:…|length` took the length of the number 15.
    final = Quiz.objects.get(is_final=True)
    assert final.draw == 15 and final.questions.count() > 15
    page = client.get(reverse("journeys:assessment", args=[final.journey.slug])).content.decode()
    assert "15 questions drawn at random from the whole journey" in page
    assert page.count('class="question"') + page.count('class="question ') == 15


@pytest.mark.parametrize(("draw", "expected"), [(3, "3 questions drawn at random"), (None, "6 questions from")])
def test_the_assessment_introduction_counts_the_questions_of_the_attempt(client, draw, expected):
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, title="Final assessment", draw=draw)
    for index in range(6):
        factories.QuestionFactory(quiz=final, kind="short", accepted_answers=[f"answer {index}"])
    page = client.get(reverse("journeys:assessment", args=[journey.slug])).content.decode()
    assert expected in page
    if draw is None:
        assert "drawn at random" not in page


def test_quiz_history_lists_previous_attempts(client, quiz_setup):
    quiz, _, right = quiz_setup
    for _ in range(2):
        token, _ = open_quiz(client, quiz)
        submit(client, quiz, {**right, "token": token})
    _, page = open_quiz(client, quiz)
    assert "Your attempts (2)" in page


@pytest.mark.parametrize("attempts", [1, 6])
@pytest.mark.parametrize("extra_lessons", [0, 12])
def test_lesson_page_with_quiz_has_constant_queries(client, user, django_assert_num_queries, attempts, extra_lessons):
    quiz, _, right = factories.quiz_with_every_kind()
    for _ in range(extra_lessons):
        factories.LessonFactory(module=quiz.lesson.module)
    client.force_login(user)
    for _ in range(attempts):
        token, _ = open_quiz(client, quiz)
        submit(client, quiz, {**right, "token": token})
    # session, user, lesson, the learner's progress in the journey, attempts (the outline and the
    # quiz with its questions come from the cache; a lesson viewed minutes ago is not written again)
    with django_assert_num_queries(5):
        assert client.get(quiz.lesson.get_absolute_url()).status_code == 200


def test_a_form_of_another_quiz_is_refused(client, quiz_setup):
    quiz, _, right = quiz_setup
    other, _, _ = factories.quiz_with_every_kind()
    other_token, _ = open_quiz(client, other)
    response = submit(client, quiz, {**right, "token": other_token})
    assert response.status_code == 400 and "belongs to another quiz" in response.content.decode()
    assert not QuizAttempt.objects.exists()


def test_passing_by_htmx_also_updates_the_completion_button_and_progress(client, quiz_setup):
    quiz, _, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    content = submit(client, quiz, {**right, "token": token}).content.decode()
    assert 'id="lesson-completion" class="completion" hx-swap-oob="true"' in content
    assert "You have completed this lesson." in content
    assert 'id="journey-progress" class="progress-block" hx-swap-oob="true"' in content and "1 of 1 lesson" in content


def submission_queries(client, quiz, data, django_assert_num_queries, expected):
    with django_assert_num_queries(expected) as captured:
        response = submit(client, quiz, data)
    assert response.status_code == 200
    return [query["sql"].split()[0] for query in captured.captured_queries]


def test_a_fresh_submission_has_constant_queries(client, user, quiz_setup, django_assert_num_queries):
    quiz, questions, right = quiz_setup
    Quiz.objects.filter(pk=quiz.pk).update(pass_mark=100)
    client.force_login(user)
    token, _ = open_quiz(client, quiz)
    wrong = {**right, f"q{questions['short'].id}": "Never"}
    submit(client, quiz, {**wrong, "token": token})  # by now the quiz and its questions are cached
    # Each write is wrapped in a transaction (a savepoint and its release, here inside the test's own).
    # Failing: session, user, [the attempt, its responses, its chosen choices], the attempts shown in
    # the history, [session save]
    token, _ = open_quiz(client, quiz)
    submission_queries(client, quiz, {**wrong, "token": token}, django_assert_num_queries, 11)
    # passing: the lesson's progress is read and completed as well, and the journey's progress shown;
    # the result leads on, and this lesson being its journey's last, that is to the journey's final
    # assessment if it has one: read once, then cached until the curriculum changes
    token, _ = open_quiz(client, quiz)
    submission_queries(client, quiz, {**right, "token": token}, django_assert_num_queries, 15)
    # passing again: the progress is read once and not written
    token, _ = open_quiz(client, quiz)
    submission_queries(client, quiz, {**right, "token": token}, django_assert_num_queries, 13)
    # the same form sent again: session, user, its attempt, the history, the journey's progress; no write
    statements = submission_queries(client, quiz, {**right, "token": token}, django_assert_num_queries, 5)
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements)
    assert QuizAttempt.objects.filter(passed=True).count() == 2 and QuizAttempt.objects.count() == 4


def test_a_form_someone_else_submitted_is_refused(client, user, quiz_setup):
    quiz, _, right = quiz_setup
    token, _ = open_quiz(client, quiz)
    assert submit(client, quiz, {**right, "token": token}).status_code == 200
    other = Client()
    other.force_login(user)
    response = submit(other, quiz, {**right, "token": token})
    assert response.status_code == 403 and "belongs to someone else" in response.content.decode()
    assert QuizAttempt.objects.count() == 1


def test_past_ten_attempts_the_history_shows_the_latest_and_counts_them_all(client, user, quiz_setup):
    quiz, questions, right = quiz_setup
    client.force_login(user)
    wrong = {**right, f"q{questions['short'].id}": "Never"}
    for number in range(12):
        token, _ = open_quiz(client, quiz)
        submit(client, quiz, {**(right if number == 0 else wrong), "token": token})  # the pass is the oldest
    _, page = open_quiz(client, quiz)
    assert "12 attempts so far, passed" in page
    history = page[page.index('<details class="history">') :]
    assert "Your attempts (10 most recent)" in page and history.count('href="/attempts/') == 10
