"""The quiz panel's context: what a page showing a quiz (the lesson page, the quiz page) puts in it."""

from django.urls import reverse

from ..curriculum.selectors import journey_outline_for_user, lesson_neighbours
from ..learners import learner_for
from ..models import can_preview_drafts
from . import selectors, services


def quiz_panel_context(request, quiz, *, error=None, submitted=None):
    """Everything the quiz panel needs to show the learner's open form (with their answers on an error)."""
    learner = learner_for(request)
    open_form = services.quiz_form_open(session=request.session, quiz=quiz, learner=learner)
    state = selectors.quiz_state(learner=learner, quiz=quiz, open_form=open_form)
    if services.quiz_form_recorded(open_form, state.attempts):
        # The session lost its save after that form was submitted: show a new one (rare; the
        # check itself costs nothing, the attempts being read for the history anyway).
        latest = state.attempts[0] if state.attempts else None
        open_form = services.quiz_form_open(
            session=request.session, quiz=quiz, learner=learner, renew=True, seed=services.retry_seed(quiz, latest)
        )
        state = selectors.quiz_state(learner=learner, quiz=quiz, open_form=open_form)
    if submitted is not None:
        selectors.attach_submitted_answers(state.questions, submitted)
    return {"quiz": quiz, "state": state, "error": error, "history": state.attempts, "open_form": open_form}


def lesson_quiz_context(request, lesson):
    """A lesson page's quiz: the panel when the reader may take it; for staff, a held-back quiz and why."""
    quiz = selectors.quiz_with_questions({"lesson": lesson})
    if quiz is None:
        return {}
    if selectors.quiz_visible_to(quiz, request.user):
        return quiz_panel_context(request, quiz)
    # Learners see no quiz here; staff see why, with the way to admin.
    return {"unavailable_quiz": quiz} if can_preview_drafts(request.user) else {}


def next_action(*, learner, user, quiz):
    """Where a passed ``quiz`` leads (``label``, ``url``): the next lesson; after the journey's last one
    its final assessment, until the learner passed it; then (and after the assessment) the certificate.

    The outline and the assessment are cached reads; only the last lesson's quiz asks the database
    whether the assessment was passed.
    """
    journey = quiz.journey
    certificate = {
        "label": "See your certificate",
        "url": reverse("journeys:certificate", kwargs={"journey_slug": journey.slug}),
    }
    if quiz.is_final or not quiz.lesson_id:
        return certificate
    outline = journey_outline_for_user(user=user, journey=journey)
    _, following = lesson_neighbours(outline, quiz.lesson.slug)
    if following is not None:
        return {"label": f"Next lesson: {following.title}", "url": following.url}
    final = selectors.quiz_with_questions({"journey": journey, "is_final": True})
    shown = final is not None and selectors.quiz_visible_to(final, user)
    if shown and not selectors.quiz_passed(learner=learner, quiz=final):
        return {"label": "Go to the final assessment", "url": final.get_absolute_url()}
    return certificate
