"""Writes of quizzes: the learner's open quiz form (signed, bound to them) and the graded attempt."""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal import metrics

from ..learners import learner_adopt_key
from ..models import LessonProgress, QuestionResponse, QuizAttempt
from ..progress.services import lesson_complete
from .forms import QuizSubmissionError, parse_quiz_answers
from .grading import ChoiceSpec, QuestionSpec, grade_quiz
from .selectors import quiz_form_questions, quiz_questions_digest, quiz_questions_for_seed

OPEN_FORMS_SESSION_KEY = "open_quiz_forms"
QUIZ_FORM_SALT = "journeys.quiz-form"
QUIZ_FORM_OWNER_SALT = "journeys.quiz-form.owner"
SOMEONE_ELSES_FORM = "This quiz form belongs to someone else. Reload the page to get your own."
QUIZ_CHANGED = (
    "This quiz changed since you opened it, so your answers were not recorded. "
    "Here is the current form: check your answers and submit again."
)


@dataclass(frozen=True)
class OpenQuizForm:
    """The quiz form a learner has in front of them.

    Its token is signed and carries the attempt's id, seed and start time, so a submission needs
    nothing from the server to be graded, and the id makes a second submit of the same form
    harmless. It also carries a digest of the learner it was handed to (``owner``), so nobody else
    can record an attempt with it, and one of what its questions meant (``questions_digest``), so
    answers to a question an author changed since are never graded against the new one; a form of
    a quiz that draws lists the questions it drew, so a grown pool leaves it as it was.

    Visitors who already have a session keep their open form there, so a reload shows the same
    questions in the same order; a first-time visitor gets no session (and no database write) just
    for reading a page, and so no learner key to bind the form to: their form has no owner, and
    whoever submits it first owns the attempt.
    """

    attempt_id: str
    seed: int
    issued_at: datetime
    quiz_id: int
    # A digest of the learner's key (see quiz_form_owner); "" for a form handed to nobody known.
    owner: str = ""
    # The questions drawn, in the order shown: a quiz with ``draw`` only, () for any other.
    question_ids: tuple = ()
    # See selectors.quiz_questions_digest; "" on a form handed out before forms carried one.
    questions_digest: str = ""
    # The token this form was read from, if any: re-signing would change its timestamp.
    signed: str = field(default="", compare=False)

    @cached_property
    def token(self):
        # Computed once: the signature carries a timestamp, and every use must see the same string.
        if self.signed:
            return self.signed
        payload = {"a": self.attempt_id, "s": self.seed, "t": self.issued_at.isoformat(), "q": self.quiz_id}
        if self.owner:
            payload["o"] = self.owner
        if self.question_ids:
            payload["i"] = list(self.question_ids)
        if self.questions_digest:
            payload["d"] = self.questions_digest
        return signing.dumps(payload, salt=QUIZ_FORM_SALT, compress=True)

    def renewed(self):
        """A form never seen before with the same learner and questions: a new attempt id and start time."""
        return new_quiz_form(
            self.quiz_id,
            seed=self.seed,
            owner=self.owner,
            question_ids=self.question_ids,
            questions_digest=self.questions_digest,
        )


def quiz_form_owner(learner):
    """What a token says about its learner: a keyed digest, since the page shows the token and an
    anonymous key is not for showing. "" for a visitor without a key."""
    key = learner.key if learner is not None else None
    if key is None:
        return ""
    return salted_hmac(QUIZ_FORM_OWNER_SALT, key).hexdigest()[:32]


def new_quiz_form(quiz_id, *, seed, owner="", question_ids=(), questions_digest=""):
    """A form never seen before of questions already worked out: a new attempt id and start time."""
    return OpenQuizForm(
        str(uuid.uuid4()),
        seed,
        timezone.now(),
        quiz_id,
        owner,
        question_ids=tuple(question_ids),
        questions_digest=questions_digest,
    )


def new_seed():
    """A new form's seed: the questions a quiz that draws shows, and the order of their choices.
    Replaceable in tests."""
    return secrets.randbelow(2**31)


def quiz_form_issue(quiz, *, owner="", seed=None):
    """A new form of ``quiz`` (as quiz_with_questions loads it: no query) with its draw: of a new seed,
    or of ``seed`` (a retry's, see retry_seed)."""
    seed = new_seed() if seed is None else seed
    questions = quiz_questions_for_seed(quiz, seed, list(quiz.questions.all()))
    return new_quiz_form(
        quiz.pk,
        seed=seed,
        owner=owner,
        question_ids=[question.id for question in questions] if quiz.draw else (),
        questions_digest=quiz_questions_digest(quiz, questions),
    )


def retry_seed(quiz, attempt):
    """The seed of the form that follows ``attempt``: the same one, so a retry shows the questions and
    their choices in the order the learner just saw, with their answers filled in (see
    selectors.previous_answers_attach). A quiz that draws its questions draws anew instead: a retry
    of a final assessment is not the same questions again. The form itself is new either way (a new
    id, start time and signature), so it records once, for this learner, and expires as any other.
    None for any other form (a new seed), or when there is no attempt."""
    if attempt is None or quiz.draw:
        return None
    return attempt.seed


def quiz_form_open(*, session, quiz, learner, renew=False, seed=None):
    """The learner's open form for ``quiz``: kept in an existing session, never the reason to start one.

    Never one that can no longer be submitted: an expired form, or one whose questions an author
    changed since, is replaced here (a reload of the page is what the "out of date" message asks
    for, so it must bring a new form). A form already recorded is replaced too, but that takes a
    query, so it is found where the attempts are read anyway: quiz_form_recorded() on the page,
    and the unique token on submission.

    A form kept in the session stays even if it was handed to the learner's anonymous key before
    they logged in (login keeps the session's data): the session is the same person's, and its
    form is accepted as theirs when submitted.
    """
    if session.session_key is None and not session.modified:
        return quiz_form_issue(quiz, owner=quiz_form_owner(learner), seed=seed)
    forms = session.get(OPEN_FORMS_SESSION_KEY, {})
    token = forms.get(str(quiz.pk))
    form = None if (token is None or renew) else _stored_form(token, quiz)
    if form is None:
        form = quiz_form_issue(quiz, owner=quiz_form_owner(learner), seed=seed)
        forms[str(quiz.pk)] = form.token
        session[OPEN_FORMS_SESSION_KEY] = forms
    return form


def _stored_form(token, quiz):
    """The session's form, or None when it is expired, unreadable (a rotated key, another quiz) or
    of questions that changed since it was handed out."""
    try:
        form = quiz_form_read(token, quiz=quiz)
    except QuizSubmissionError:
        return None
    if form is None or quiz_form_questions(quiz, form) is None:
        return None
    return form


def quiz_form_recorded(form, attempts):
    """Whether ``attempts`` (the learner's latest, as the quiz panel reads them) include one made
    from ``form``: then the session's save after that submission was lost (a 500 after the commit,
    a killed worker) and the form must be replaced. An attempt's start time is its form's issue
    time to the microsecond, and the history already loads it, so this costs no query; the
    attempt made from the session's form is always the learner's latest, so it is in the list."""
    return any(attempt.started_at == form.issued_at for attempt in attempts)


def quiz_form_read(token, *, quiz, check_age=True):
    """The form a submitted token stands for, or None when it is out of date; raises on a forged token."""
    try:
        max_age = settings.QUIZ_FORM_MAX_AGE if check_age else None
        payload = signing.loads(token, salt=QUIZ_FORM_SALT, max_age=max_age)
    except signing.SignatureExpired:
        return None
    except signing.BadSignature:
        raise QuizSubmissionError("This quiz form is damaged. Reload the page and answer again.") from None
    if payload.get("q") != quiz.pk:
        raise QuizSubmissionError("This answer sheet belongs to another quiz. Reload the page and answer again.")
    return OpenQuizForm(
        payload["a"],
        payload["s"],
        datetime.fromisoformat(payload["t"]),
        payload["q"],
        payload.get("o", ""),
        question_ids=tuple(payload.get("i", ())),
        questions_digest=payload.get("d", ""),
        signed=token,
    )


def question_spec(question):
    choices = tuple(
        ChoiceSpec(choice.id, choice.text, choice.is_correct, choice.feedback, choice.order)
        for choice in question.choices.all()
    )
    return QuestionSpec(
        id=question.id,
        kind=question.kind,
        choices=choices,
        partial_credit=question.partial_credit,
        accepted_answers=tuple(question.accepted_answers),
        answer_pattern=question.answer_pattern,
        wrong_feedback=question.wrong_feedback,
    )


def quiz_submit(*, learner, session, quiz, token, data):
    """Grade a submitted quiz form and record one attempt. Return (attempt, created).

    A second submit of the same form (double click, two tabs, a retry) returns the first attempt
    instead of recording another; the unique token makes that hold even for concurrent requests.
    A form handed to somebody else is refused (403) and changes nothing. So is one that is out of
    date (409): expired, or of questions an author changed since (removed, or a new kind or new
    choices), whose answers would be graded against questions the learner never saw. Whatever is
    refused, the session is left with a form that can be submitted, so a quiz never wedges.
    """
    open_form = quiz_form_read(token, quiz=quiz, check_age=False)
    is_open = _is_the_open_form(session, open_form)
    if not is_open:
        # Not the form this session has open: most likely one already submitted (a double click,
        # a retry, a second tab), whose result is the answer, if it is this learner's.
        existing = _submitted_attempt(quiz, open_form)
        if existing is not None:
            if _first_visit_sibling(learner, session, open_form, existing):
                learner_adopt_key(session, existing.anon_key)
                return existing, False
            return _own_attempt(learner, existing), False
    if not _handed_to(learner, open_form, is_open):
        raise QuizSubmissionError(SOMEONE_ELSES_FORM, status=403)
    if quiz_form_read(token, quiz=quiz) is None:
        if is_open:
            quiz_form_open(session=session, quiz=quiz, learner=learner, renew=True)
        raise QuizSubmissionError("This quiz form is out of date. Reload the page and answer again.", status=409)
    # The quiz usually arrives with its questions and choices prefetched (and cached): no query.
    questions = quiz_form_questions(quiz, open_form)
    if questions is None:
        if is_open:
            quiz_form_open(session=session, quiz=quiz, learner=learner, renew=True)
        raise QuizSubmissionError(QUIZ_CHANGED, status=409)

    specs = [question_spec(question) for question in questions]
    answers = parse_quiz_answers(data, specs)
    outcomes, score, passed = grade_quiz(specs, answers, pass_mark=quiz.pass_mark)

    try:
        with transaction.atomic():
            attempt = QuizAttempt.objects.create(
                **learner.owner_fields(),
                quiz=quiz,
                submission_token=open_form.attempt_id,
                seed=open_form.seed,
                question_ids=[spec.id for spec in specs],
                answers={str(key): value for key, value in answers.items()},
                results=[outcome.as_dict() for outcome in outcomes],
                score=score,
                passed=passed,
                started_at=open_form.issued_at,
            )
            _record_responses(attempt, specs, outcomes, answers)
            if passed and quiz.lesson_id:
                lesson_complete(learner=learner, lesson_id=quiz.lesson_id, via=LessonProgress.Via.QUIZ)
    except IntegrityError:
        # Already recorded: the same form submitted concurrently (for a first-time visitor, under
        # the anonymous key that request gave them a moment earlier), or the session's save after
        # an earlier submission was lost, so it still held this form. Either way it must not stay
        # open: renew it, so the next page view shows a form that records.
        attempt = _submitted_attempt(quiz, open_form)
        if attempt is None:
            raise
        if is_open:
            quiz_form_open(session=session, quiz=quiz, learner=learner, renew=True, seed=retry_seed(quiz, attempt))
        if _first_visit_sibling(learner, session, open_form, attempt):
            learner_adopt_key(session, attempt.anon_key)
            return attempt, False
        return _own_attempt(learner, attempt), False

    quiz_form_open(session=session, quiz=quiz, learner=learner, renew=True, seed=retry_seed(quiz, attempt))
    metrics.quiz_submitted(passed=attempt.passed, final=quiz.is_final)
    return attempt, True


def _handed_to(learner, form, is_open):
    """Whether ``form`` (not recorded yet) may be recorded for ``learner``.

    The session's own open form may: it was handed to this very session, which is the same
    person's even when they logged in since (their anonymous progress moved to the account, and
    login keeps the session's data while dropping the anonymous key). Any other form must carry
    this learner's digest, or none at all (one handed to a first-time visitor, who had no key).
    """
    return is_open or not form.owner or form.owner == quiz_form_owner(learner)


def _first_visit_sibling(learner, session, form, attempt):
    """Whether ``attempt`` was most likely recorded by a request sent alongside this one by the same
    first-time visitor: a double click, or a retry before the first answer arrived.

    Such requests carry no session cookie, so each one mints its own anonymous key, and whichever
    cookie the browser keeps last would leave the attempt under a key the visitor no longer has:
    their answers and progress lost. So a request without a session that submits an unbound form
    (only a first-time visitor is handed one) already recorded under an anonymous key joins that
    key. An attempt of a signed-in learner is never joined, and anyone with a session is checked
    as usual. The token is shown once, to the visitor, on a page nobody else is served.
    """
    return (
        session.session_key is None
        and learner.user is None
        and not form.owner
        and attempt.user_id is None
        and bool(attempt.anon_key)
    )


def _own_attempt(learner, attempt):
    if not learner.owns(attempt):
        raise QuizSubmissionError(SOMEONE_ELSES_FORM, status=403)
    return attempt


def _is_the_open_form(session, form):
    """Whether ``form`` is the one this session has open for its quiz (so most likely not submitted yet)."""
    token = session.get(OPEN_FORMS_SESSION_KEY, {}).get(str(form.quiz_id))
    return token is not None and token == form.token


def _submitted_attempt(quiz, form):
    """The attempt already recorded from ``form``, if any."""
    existing = QuizAttempt.objects.filter(submission_token=form.attempt_id).first()
    if existing is not None:
        existing.quiz = quiz  # the cached quiz, with its lesson and journey: the result needs no query for them
    return existing


def _record_responses(attempt, specs, outcomes, answers):
    """One row per answered question and one per chosen choice, in two inserts."""
    responses = QuestionResponse.objects.bulk_create(
        [
            QuestionResponse(
                attempt=attempt,
                question_id=spec.id,
                score=outcome.score,
                is_correct=outcome.correct,
                text_answer=answers[spec.id] if isinstance(answers[spec.id], str) else "",
            )
            for spec, outcome in zip(specs, outcomes, strict=True)
        ]
    )
    chosen = QuestionResponse.chosen_choices.through
    links = []
    for spec, response in zip(specs, responses, strict=True):
        answer = answers[spec.id]
        if spec.kind in ("single", "true_false"):
            links.append(chosen(questionresponse_id=response.pk, choice_id=answer))
        elif spec.kind == "multiple":
            links += [chosen(questionresponse_id=response.pk, choice_id=choice_id) for choice_id in answer]
    chosen.objects.bulk_create(links)
