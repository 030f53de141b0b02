"""The quiz panel's context: what a page showing a quiz (the lesson page, the quiz page) puts in it."""

from ..learners import learner_for
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
