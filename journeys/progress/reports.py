"""Reports for the teams running the portal: cohort progress and question statistics."""

import csv
import io

from django.contrib.auth import get_user_model
from django.db.models import Count, F, FloatField, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from ..models import Certificate, Choice, Lesson, QuestionResponse

COHORT_COLUMNS = [
    "cohort",
    "username",
    "email",
    "lessons_completed",
    "lessons_total",
    "percent_complete",
    "quizzes_passed",
    "final_assessment_passed",
    "certificate",
    "last_activity",
]


def cohort_progress_rows(groups):
    """One row per member of each group (cohort), in a fixed number of queries."""
    total = Lesson.objects.published().filter(journey__is_published=True).count()
    users = (
        get_user_model()
        .objects.filter(groups__in=groups)
        .annotate(
            lessons_completed=Count(
                "lessonprogress",
                filter=Q(lessonprogress__completed_at__isnull=False, lessonprogress__lesson__is_published=True),
                distinct=True,
            ),
            quizzes_passed=Count(
                "quizattempt__quiz",
                filter=Q(quizattempt__passed=True, quizattempt__quiz__is_final=False),
                distinct=True,
            ),
            final_passed=Count("quizattempt", filter=Q(quizattempt__passed=True, quizattempt__quiz__is_final=True)),
            last_viewed=Max("lessonprogress__last_viewed_at"),
            last_attempt=Max("quizattempt__submitted_at"),
        )
        .order_by("username")
        .distinct()
    )
    users = {user.pk: user for user in users}
    certificates = {}
    for certificate in Certificate.objects.filter(user__in=users.keys()):
        certificates.setdefault(certificate.user_id, []).append(certificate.code)
    memberships = get_user_model().groups.through.objects.filter(group__in=groups, user__in=users.keys())
    group_names = {group.pk: group.name for group in groups}
    rows = []
    for membership in sorted(memberships, key=lambda m: (group_names[m.group_id], users[m.user_id].username)):
        user = users[membership.user_id]
        activity = [moment for moment in (user.last_viewed, user.last_attempt) if moment]
        rows.append(
            {
                "cohort": group_names[membership.group_id],
                "username": user.username,
                "email": user.email,
                "lessons_completed": user.lessons_completed,
                "lessons_total": total,
                "percent_complete": round(100 * user.lessons_completed / total) if total else 0,
                "quizzes_passed": user.quizzes_passed,
                "final_assessment_passed": "yes" if user.final_passed else "no",
                "certificate": " ".join(certificates.get(user.pk, [])),
                "last_activity": max(activity).isoformat() if activity else "",
            }
        )
    return rows


def cohort_progress_csv(groups):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COHORT_COLUMNS)
    writer.writeheader()
    for row in cohort_progress_rows(groups):
        # A leading = + - @ makes spreadsheet software run the cell as a formula.
        writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})
    return buffer.getvalue()


def _spreadsheet_safe(value):
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@"}:
        return "'" + value
    return value


def with_question_statistics(questions):
    """Annotate questions with attempts, percent correct and the most chosen wrong answer."""
    wrong_choice = (
        Choice.objects.filter(question=OuterRef("pk"), is_correct=False)
        .annotate(times=Count("responses"))
        .filter(times__gt=0)
        .order_by("-times", "order")
        .values("text")[:1]
    )
    wrong_text = (
        QuestionResponse.objects.filter(question=OuterRef("pk"), is_correct=False)
        .exclude(text_answer="")
        .values("text_answer")
        .annotate(times=Count("id"))
        .order_by("-times", "text_answer")
        .values("text_answer")[:1]
    )
    return questions.annotate(
        answered=Count("responses", distinct=True),
        answered_right=Count("responses", filter=Q(responses__is_correct=True), distinct=True),
        percent_correct=Cast(F("answered_right"), FloatField())
        * Value(100.0)
        / NullIf(Cast(F("answered"), FloatField()), Value(0.0)),
        most_chosen_wrong=Coalesce(Subquery(wrong_choice), Subquery(wrong_text), Value("")),
    )


def with_quiz_statistics(quizzes):
    return quizzes.annotate(
        attempt_count=Count("attempts", distinct=True),
        pass_count=Count("attempts", filter=Q(attempts__passed=True), distinct=True),
        question_count=Count("questions", distinct=True, output_field=IntegerField()),
    )
