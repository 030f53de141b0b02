"""A retry starts from the learner's last answers, marks what was not right, and a pass leads on.

The form of a retry is a new form as any other (a new one-time token, bound to its learner, expiring):
only its seed is the last attempt's, so it shows the questions and choices in the order just seen,
and the answers are put back by question and choice id whatever the order.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from journeys.learners import Learner
from journeys.models import LessonProgress, Quiz, QuizAttempt
from journeys.quizzes import services
from tests import factories
from tests.quizzes.test_quiz_forms import started_learner

pytestmark = pytest.mark.django_db
TOKEN = re.compile(r'name="token" value="([^"]+)"')
NOT_RIGHT = "Last time: not right"


@pytest.fixture
def quiz_setup():
    return factories.quiz_with_every_kind()


def lesson_page(client, quiz):
    return client.get(quiz.lesson.get_absolute_url()).content.decode()


def submit(client, quiz, data, *, htmx=False, current_url=None):
    headers = {"HX-Request": "true"} if htmx else {}
    if current_url is not None:
        headers["HX-Current-URL"] = f"http://testserver{current_url}"
    return client.post(reverse("journeys:quiz_submit", args=[quiz.pk]), data, headers=headers)


def answer(client, quiz, data, **options):
    """Open the quiz on its lesson page and submit ``data`` with the form's token."""
    token = TOKEN.search(lesson_page(client, quiz)).group(1)
    return submit(client, quiz, {**data, "token": token}, **options)


def question_blocks(page):
    """{question id: the HTML of its item in the form}."""
    form = page[page.index('<ol class="questions">') : page.index("Check my answers")]
    blocks = {}
    for block in re.split(r'(?=<li class="question[ "])', form)[1:]:
        blocks[int(re.search(r'name="q(\d+)', block).group(1))] = block
    return blocks


def checked(block, question):
    return [int(value) for value in re.findall(rf'name="q{question.id}" value="(\d+)" checked', block)]


def text_value(block, question):
    return re.search(rf'name="q{question.id}"[^>]*value="([^"]*)"', block).group(1)


def positions(block, question):
    """{choice id: the position selected for it}."""
    found = {}
    for choice_id, options in re.findall(rf'<select id="q{question.id}-(\d+)"[^>]*>(.*?)</select>', block, re.S):
        selected = re.search(r'<option value="(\d+)" selected>', options)
        found[int(choice_id)] = selected.group(1) if selected else ""
    return found


def shown_order(page, question):
    return [int(choice_id) for choice_id in re.findall(rf'name="q{question.id}(?:-\d+)?" value="(\d+)"', page)] or [
        int(choice_id) for choice_id in re.findall(rf'<select id="q{question.id}-(\d+)"', page)
    ]


def wrong_answers(questions, right):
    """Right on the single, true/false and multiple-choice questions; wrong on the others."""
    ordering = questions["ordering"]
    steps = list(ordering.choices.order_by("order"))
    reversed_positions = {f"q{ordering.id}-{step.id}": str(len(steps) - index) for index, step in enumerate(steps)}
    return {
        **right,
        f"q{questions['short'].id}": "Always",
        f"q{questions['kubectl'].id}": "kubectl get svc",
        **reversed_positions,
    }


# --- The form of a retry ---


def test_a_retry_is_filled_in_with_the_last_answers_and_marks_the_wrong_ones(client, quiz_setup):
    quiz, questions, right = quiz_setup
    wrong = wrong_answers(questions, right)
    assert answer(client, quiz, wrong).status_code == 302
    page = lesson_page(client, quiz)
    blocks = question_blocks(page)

    single, multiple, true_false = questions["single"], questions["multiple"], questions["true_false"]
    assert checked(blocks[single.id], single) == [int(right[f"q{single.id}"])]
    assert sorted(checked(blocks[multiple.id], multiple)) == sorted(int(value) for value in right[f"q{multiple.id}"])
    assert checked(blocks[true_false.id], true_false) == [int(right[f"q{true_false.id}"])]
    assert text_value(blocks[questions["short"].id], questions["short"]) == "Always"
    assert text_value(blocks[questions["kubectl"].id], questions["kubectl"]) == "kubectl get svc"
    ordering = questions["ordering"]
    assert positions(blocks[ordering.id], ordering) == {
        int(name.rsplit("-", 1)[1]): value for name, value in wrong.items() if name.startswith(f"q{ordering.id}-")
    }

    marked = {question_id for question_id, block in blocks.items() if NOT_RIGHT in block}
    assert marked == {questions["short"].id, questions["kubectl"].id, ordering.id}
    for question_id in marked:
        block = blocks[question_id]
        assert "question--retry" in block and "✗" in block, "a symbol and words, not colour alone"
        note_id = re.search(r'<p class="question__last" id="([^"]+)"', block).group(1)
        assert f'aria-describedby="{note_id}"' in block, "read out with the question"
    assert "3 questions are marked “Last time: not right”" in page
    assert "Your answers from last time are filled in" in page


def test_a_retry_reveals_no_right_answer(client, quiz_setup):
    quiz, questions, right = quiz_setup
    answer(client, quiz, wrong_answers(questions, right))
    form = lesson_page(client, quiz)
    form = form[form.index('id="quiz"') :]
    assert "OnFailure" not in form and "kubectl get pods -n shop" not in form
    assert "Correct" not in form and "Accepted answer" not in form and "belongs at" not in form
    # Nor once the rule reveals them (on the result page): the form is for answering.
    Quiz.objects.filter(pk=quiz.pk).update(reveal="after_attempts", reveal_after_attempts=1)
    answer(client, quiz, wrong_answers(questions, right))
    form = lesson_page(client, quiz)
    form = form[form.index('id="quiz"') :]
    assert "OnFailure" not in form and "kubectl get pods -n shop" not in form


def test_a_partly_right_answer_is_marked_partly_right(client, quiz_setup):
    quiz, questions, right = quiz_setup
    multiple = questions["multiple"]
    multiple.partial_credit = True
    multiple.save()
    one_of_two = str(multiple.choices.filter(is_correct=True).first().id)
    answer(client, quiz, {**right, f"q{multiple.id}": [one_of_two]})
    block = question_blocks(lesson_page(client, quiz))[multiple.id]
    assert "Last time: partly right" in block and "◐" in block and NOT_RIGHT not in block
    assert checked(block, multiple) == [int(one_of_two)]


def test_a_retry_shows_the_questions_and_choices_in_the_order_just_seen(user, quiz_setup):
    quiz, questions, right = quiz_setup
    client = started_learner(user)
    before = lesson_page(client, quiz)
    answer(client, quiz, wrong_answers(questions, right))
    after = lesson_page(client, quiz)
    assert TOKEN.search(after).group(1) != TOKEN.search(before).group(1), "a new form"
    for kind in ("single", "multiple", "ordering"):
        assert shown_order(after, questions[kind]) == shown_order(before, questions[kind]), kind
    attempt = QuizAttempt.objects.get()
    assert services.quiz_form_read(TOKEN.search(after).group(1), quiz=quiz).seed == attempt.seed


def test_try_again_by_htmx_brings_the_filled_in_form(client, quiz_setup):
    quiz, questions, right = quiz_setup
    result = answer(client, quiz, wrong_answers(questions, right), htmx=True).content.decode()
    assert "Try again" in result
    panel = client.get(reverse("journeys:quiz", args=[quiz.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in panel and 'id="quiz"' in panel
    assert NOT_RIGHT in panel and 'value="Always"' in panel


def test_a_retry_form_is_still_one_time_and_bound_to_its_learner(quiz_setup):
    quiz, questions, right = quiz_setup
    owner, intruder = started_learner(factories.UserFactory()), started_learner(factories.UserFactory())
    first = answer(owner, quiz, wrong_answers(questions, right))
    retry_token = TOKEN.search(lesson_page(owner, quiz)).group(1)
    assert services.quiz_form_read(retry_token, quiz=quiz).owner == services.quiz_form_owner(
        Learner(user=QuizAttempt.objects.get().user)
    )

    lesson_page(intruder, quiz)
    refused = submit(intruder, quiz, {**right, "token": retry_token}, htmx=True)
    assert refused.status_code == 403 and QuizAttempt.objects.count() == 1

    assert submit(owner, quiz, {**right, "token": retry_token}).status_code == 302
    replay = submit(owner, quiz, {**right, "token": retry_token})
    assert replay.status_code == 302 and QuizAttempt.objects.count() == 2, "recorded once"
    assert first["Location"] != replay["Location"]


def test_a_retry_form_expires_like_any_other(user, quiz_setup, settings):
    quiz, questions, right = quiz_setup
    client = started_learner(user)
    answer(client, quiz, wrong_answers(questions, right))
    retry_token = TOKEN.search(lesson_page(client, quiz)).group(1)
    settings.QUIZ_FORM_MAX_AGE = -1
    response = submit(client, quiz, {**right, "token": retry_token}, htmx=True)
    assert response.status_code == 409 and QuizAttempt.objects.count() == 1


def test_nobody_elses_answers_fill_a_form(quiz_setup):
    quiz, questions, right = quiz_setup
    answer(started_learner(factories.UserFactory()), quiz, wrong_answers(questions, right))
    for stranger in (Client(), started_learner(factories.UserFactory()), started_learner()):
        page = lesson_page(stranger, quiz)
        assert NOT_RIGHT not in page and " checked" not in page and 'value="Always"' not in page
        assert "Your answers from last time" not in page


def test_answers_typed_into_a_refused_retry_win_over_the_last_ones(client, quiz_setup):
    quiz, questions, right = quiz_setup
    answer(client, quiz, wrong_answers(questions, right))
    token = TOKEN.search(lesson_page(client, quiz)).group(1)
    data = {**right, f"q{questions['kubectl'].id}": "kubectl get po -n shop", "token": token}
    del data[f"q{questions['short'].id}"]
    page = submit(client, quiz, data, htmx=True).content.decode()
    assert 'value="kubectl get po -n shop"' in page and 'value="kubectl get svc"' not in page
    assert NOT_RIGHT in page, "the marks of the last attempt stay"


def test_a_drawn_assessment_draws_anew_and_fills_in_the_questions_drawn_again(client, monkeypatch):
    seeds = iter([0, 1, 2, 3])
    monkeypatch.setattr("journeys.quizzes.services.new_seed", lambda: next(seeds))
    journey = factories.JourneyFactory()
    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, draw=3)
    for order in range(4):
        factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["a"], order=order)
    url = reverse("journeys:assessment", args=[journey.slug])
    page = client.get(url).content.decode()
    shown = [int(number) for number in re.findall(r'name="q(\d+)"', page)]
    data = {"token": TOKEN.search(page).group(1), **{f"q{number}": f"answer {number}" for number in shown}}
    assert submit(client, final, data).status_code == 302
    attempt = QuizAttempt.objects.get()

    again = client.get(url).content.decode()
    assert services.quiz_form_read(TOKEN.search(again).group(1), quiz=final).seed != attempt.seed, "a new draw"
    drawn = [int(number) for number in re.findall(r'name="q(\d+)"', again)]
    for number in drawn:
        block = question_blocks(again)[number]
        if number in shown:
            assert f'value="answer {number}"' in block and NOT_RIGHT in block
        else:
            assert 'value=""' in block and NOT_RIGHT not in block


def test_the_lesson_page_reads_no_more_for_a_filled_in_form(client, user, django_assert_num_queries, quiz_setup):
    quiz, questions, right = quiz_setup
    client.force_login(user)
    answer(client, quiz, wrong_answers(questions, right))
    # Rendered (the submission retired the stored copy): session, user, lesson, the learner's progress
    # in the journey, attempts (the last one's answers with them)
    with django_assert_num_queries(5):
        page = lesson_page(client, quiz)
    assert NOT_RIGHT in page


# --- What a result leads to ---


@pytest.fixture
def two_lessons():
    """A journey of two lessons, each with a quiz of every kind; returns (first quiz, second quiz, answers)."""
    journey = factories.JourneyFactory()
    module = factories.ModuleFactory(journey=journey)
    first_lesson = factories.LessonFactory(module=module, order=1, title="StatefulSets")
    second_lesson = factories.LessonFactory(module=module, order=2, title="DaemonSets")
    first, _, first_right = factories.quiz_with_every_kind(lesson=first_lesson)
    second, _, second_right = factories.quiz_with_every_kind(lesson=second_lesson)
    return first, second, {first.pk: first_right, second.pk: second_right}


def actions(page):
    return re.search(r'<p class="actions">(.*?)</p>', page, re.S).group(1)


def primary(page):
    """(text, href) of the first button in the result's actions."""
    match = re.search(r'<a class="button" href="([^"]+)"[^>]*>([^<]+)</a>', actions(page))
    return match.group(2).strip(), match.group(1)


def test_a_pass_on_the_lesson_page_leads_to_the_next_lesson(client, two_lessons):
    first, second, right = two_lessons
    lesson_url = first.lesson.get_absolute_url()
    page = answer(client, first, right[first.pk], htmx=True, current_url=lesson_url).content.decode()
    assert primary(page) == ("Next lesson: DaemonSets", second.lesson.get_absolute_url())
    assert re.search(r'class="button button--secondary"[^>]*>Try again</a>', actions(page))
    assert "Back to the lesson" not in page, "the learner is on the lesson"


def test_a_result_elsewhere_offers_the_way_back_to_the_lesson(client, two_lessons):
    first, second, right = two_lessons
    response = answer(client, first, right[first.pk])  # without JavaScript: the result's own page
    page = client.get(response["Location"]).content.decode()
    assert primary(page) == ("Next lesson: DaemonSets", second.lesson.get_absolute_url())
    assert f'<a href="{first.lesson.get_absolute_url()}">Back to the lesson</a>' in actions(page)
    # By htmx from the result page (after "Try again" there), not from the lesson page.
    page = answer(client, first, right[first.pk], htmx=True, current_url=response["Location"]).content.decode()
    assert "Back to the lesson" in actions(page)


def test_a_failed_attempt_offers_try_again_first(client, two_lessons):
    first, second, right = two_lessons
    questions = {question.kind: question for question in first.questions.all()}
    wrong = wrong_answers(questions, right[first.pk])
    page = answer(client, first, wrong, htmx=True, current_url=first.lesson.get_absolute_url()).content.decode()
    assert primary(page)[0] == "Try again" and "Next lesson" not in page
    # Passed before: the way on stays, second to trying again.
    answer(client, first, right[first.pk])
    page = answer(client, first, wrong, htmx=True).content.decode()
    assert primary(page)[0] == "Try again"
    assert f'<a href="{second.lesson.get_absolute_url()}">Next lesson: DaemonSets</a>' in actions(page)


def test_the_last_lessons_pass_leads_to_the_final_assessment_then_the_certificate(client, two_lessons):
    _, second, right = two_lessons
    journey = second.journey
    certificate_url = reverse("journeys:certificate", args=[journey.slug])
    assert primary(answer(client, second, right[second.pk], htmx=True).content.decode()) == (
        "See your certificate",
        certificate_url,
    ), "a journey without a final assessment"

    final = factories.QuizFactory(lesson=None, journey=journey, is_final=True, title="Final assessment")
    question = factories.QuestionFactory(quiz=final, kind="short", accepted_answers=["yes"])
    page = answer(client, second, right[second.pk], htmx=True).content.decode()
    assert primary(page) == ("Go to the final assessment", reverse("journeys:assessment", args=[journey.slug]))

    assessment = client.get(reverse("journeys:assessment", args=[journey.slug])).content.decode()
    data = {"token": TOKEN.search(assessment).group(1), f"q{question.pk}": "yes"}
    page = submit(client, final, data, htmx=True).content.decode()
    assert primary(page) == ("See your certificate", certificate_url)
    assert primary(answer(client, second, right[second.pk], htmx=True).content.decode())[0] == "See your certificate"


# --- The completion button beside a quiz ---


def completion_button(page):
    return re.search(r"<button[^>]*>Mark this lesson as complete</button>", page).group(0)


def test_marking_complete_is_the_second_way_when_the_lesson_has_a_quiz(client, two_lessons):
    first, _, _ = two_lessons
    page = lesson_page(client, first)
    assert "button--secondary" in completion_button(page)
    assert page.index("Check my answers") < page.index("Mark this lesson as complete")
    assert re.search(r'<button type="submit">Check my answers</button>', page), "the quiz's button is the primary"

    # The button as the completion view swaps it back in (undo), too.
    url = reverse("journeys:lesson_complete", args=[first.lesson.pk])
    client.post(url, headers={"HX-Request": "true"})
    undone = client.post(url, {"undo": "1"}, headers={"HX-Request": "true"}).content.decode()
    assert "button--secondary" in completion_button(undone)
    assert not LessonProgress.objects.filter(completed_at__isnull=False).exists()


def test_without_a_quiz_marking_complete_is_the_primary_action(client):
    lesson = factories.LessonFactory()
    page = client.get(lesson.get_absolute_url()).content.decode()
    assert completion_button(page) == '<button type="submit">Mark this lesson as complete</button>'
    undone = client.post(
        reverse("journeys:lesson_complete", args=[lesson.pk]), {"undo": "1"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert completion_button(undone) == '<button type="submit">Mark this lesson as complete</button>'
