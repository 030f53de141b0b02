"""Every piece of the portal's own code the benchmarks use, and nothing else.

The benchmarks drive the portal over HTTP; a few things they cannot get that way (the right answers
to fill a quiz form, a new signed quiz form, counts of stored attempts, the seeded learner with the
longest history) they read from the portal's models and services. Those imports live here and only
here, so that when the portal's modules are renamed or regrouped the benchmarks are fixed in this
one file. Each function imports what it needs when called: Django must be set up first, and the
package's other modules import this one before that.
"""


def question_specs():
    """{question id: the grader's view of the question (kind, choices and which are correct, answers)}."""
    from journeys.models import Question
    from journeys.quizzes.services import question_spec

    return {q.id: question_spec(q) for q in Question.objects.prefetch_related("choices")}


def renewed_quiz_token(token, quiz_id):
    """A signed quiz form never submitted: the one ``token`` stands for, with a new attempt id.

    Made by the portal's own form code with the server's secret key, as its pages would hand it out."""
    from journeys.models import Quiz
    from journeys.quizzes.services import quiz_form_read

    return quiz_form_read(token, quiz=Quiz(pk=quiz_id)).renewed().token


def quiz_attempt_count(user_ids):
    from journeys.models import QuizAttempt

    return QuizAttempt.objects.filter(user_id__in=user_ids).count()


def quiz_attempts_found(attempt_ids, user_ids):
    """How many of ``attempt_ids`` are stored attempts of these users."""
    from journeys.models import QuizAttempt

    return sum(
        QuizAttempt.objects.filter(pk__in=attempt_ids[start : start + 1000], user_id__in=user_ids).count()
        for start in range(0, len(attempt_ids), 1000)
    )


def quiz_lesson_slugs(journey):
    """Slugs of the journey's published lessons that have a quiz, in journey order."""
    from journeys.models import Lesson

    return list(
        Lesson.objects.published().filter(journey__slug=journey, quiz__isnull=False).values_list("slug", flat=True)
    )


def first_lesson_url():
    """The address of a published lesson (any one)."""
    from journeys.models import Lesson

    return Lesson.objects.filter(is_published=True).first().get_absolute_url()


def latest_lab_run_report():
    """The report stored by the most recent lab run, or None when there is none."""
    from journeys.models import LabRun

    run = LabRun.objects.order_by("-id").first()
    return None if run is None else run.report


def lab_check_url(slug):
    from django.urls import reverse

    return reverse("journeys:lab_check", args=[slug])


def active_learner():
    """The seeded learner with the most quiz attempts (learner-0004 to -0099): the dashboard's heavy case.

    Returns (username, {what: count}).
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    names = [f"learner-{index:04d}" for index in range(4, 100)]
    row = (
        get_user_model()
        .objects.filter(username__in=names)
        .annotate(attempts=Count("quizattempt", distinct=True))
        .order_by("-attempts", "username")
        .values("username", "attempts")
        .first()
    )
    user = get_user_model().objects.get(username=row["username"])
    profile = {
        "quiz attempts": row["attempts"],
        "lessons completed": user.lessonprogress_set.filter(completed_at__isnull=False).count(),
        "lab runs": user.labrun_set.count(),
    }
    return row["username"], profile


def never_serve_stored_learner_pages():
    """Render learners' pages every time, as after a change (profile_views --not-stored)."""
    from journeys.pages import learner_page

    learner_page.lookup = lambda request: None


def sandbox():
    """(labs, sources): the lab definitions and the cluster sources, for the sandbox benchmark."""
    from journeys.sandbox import labs, sources

    return labs, sources
