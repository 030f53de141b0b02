"""The quiz panel's context: what a page showing a quiz (the lesson page, the quiz page) puts in it."""

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
        open_form = services.quiz_form_open(session=request.session, quiz=quiz, learner=learner, renew=True)
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
