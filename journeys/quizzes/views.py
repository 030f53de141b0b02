"""Quiz pages: take a quiz, submit it (htmx or a plain form post), review an attempt."""

from urllib.parse import urlsplit

from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from ..curriculum.selectors import journey_for_user
from ..learners import learner_for
from ..progress.panels import lesson_progress_context
from . import selectors, services
from .forms import QuizSubmissionError
from .panels import next_action, quiz_panel_context

QUIZ_TEMPLATE = "quizzes/quiz.html"


def _quiz_or_404(request, quiz_filter):
    quiz = selectors.quiz_with_questions(quiz_filter)
    if quiz is None or not selectors.quiz_visible_to(quiz, request.user):
        raise Http404("This quiz is not available.")
    return quiz


@require_GET
def quiz_page(request, quiz_id):
    quiz = _quiz_or_404(request, {"pk": quiz_id})
    if quiz.lesson_id and not request.htmx:
        return redirect(quiz.get_absolute_url())
    template = f"{QUIZ_TEMPLATE}#panel" if request.htmx else QUIZ_TEMPLATE
    return render(request, template, quiz_panel_context(request, quiz))


@require_GET
def assessment(request, journey_slug):
    journey = journey_for_user(user=request.user, journey_slug=journey_slug)
    quiz = _quiz_or_404(request, {"journey": journey, "is_final": True})
    return render(request, QUIZ_TEMPLATE, quiz_panel_context(request, quiz))


@require_POST
def quiz_submit(request, quiz_id):
    quiz = _quiz_or_404(request, {"pk": quiz_id})
    learner = learner_for(request, create=True)
    try:
        attempt, _ = services.quiz_submit(
            learner=learner, session=request.session, quiz=quiz, token=request.POST.get("token", ""), data=request.POST
        )
    except QuizSubmissionError as error:
        context = quiz_panel_context(request, quiz, error=error, submitted=request.POST)
        template = f"{QUIZ_TEMPLATE}#panel" if request.htmx else QUIZ_TEMPLATE
        return render(request, template, context, status=error.status)
    if not request.htmx:
        return redirect(attempt.get_absolute_url())
    # A first-time visitor's request may have joined the key a sibling request gave them.
    learner = learner_for(request)
    # The quiz comes with its questions and choices (cached): the review needs no query for them.
    context = attempt_context(request, attempt, learner, questions=quiz.questions.all())
    response = render(request, f"{QUIZ_TEMPLATE}#panel", context)
    if attempt.passed and quiz.lesson_id:
        # Passing completed the lesson: update its button and progress bars in the same swap.
        response.content += render_to_string(
            "curriculum/lesson_detail.html#completion",
            lesson_progress_context(learner, quiz.lesson, completion_oob=True, has_quiz=True),
            request=request,
        ).encode()
    return response


def attempt_context(request, attempt, learner, questions=None):
    attempts, summary = selectors.learner_attempts(learner=learner, quiz=attempt.quiz)
    passed = summary["passed"] > 0
    return {
        "quiz": attempt.quiz,
        "attempt": attempt,
        "review": selectors.attempt_review(attempt, questions),
        "revealed": selectors.answers_revealed(attempt.quiz, attempt_count=summary["count"], passed=passed),
        "history": attempts,
        # Once the quiz is passed, the way on: the primary action after a pass, else beside "Try again".
        "next_action": next_action(learner=learner, user=request.user, quiz=attempt.quiz) if passed else None,
        "on_lesson_page": _on_lesson_page(request, attempt.quiz),
    }


def _on_lesson_page(request, quiz):
    """Whether the result is swapped into the quiz's own lesson page (so "Back to the lesson" is moot).

    htmx names the page it swaps into (HX-Current-URL); a result page of its own is never the lesson."""
    if not request.htmx or not quiz.lesson_id:
        return False
    current = request.htmx.current_url_abs_path or ""
    return urlsplit(current).path == quiz.lesson.get_absolute_url()


@require_GET
def attempt_detail(request, attempt_id):
    learner = learner_for(request)
    attempt = selectors.attempt_for_learner(learner=learner, attempt_id=attempt_id)
    return render(request, QUIZ_TEMPLATE, attempt_context(request, attempt, learner))
