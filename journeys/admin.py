from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, Max, Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html

from .admin_forms import (
    KIND_FIELDS,
    ChoiceInlineFormSet,
    LessonAdminForm,
    PreviewTooLargeError,
    QuestionAdminForm,
    QuestionInlineFormSet,
    QuizAdminForm,
    kind_field_groups,
    lesson_preview,
    question_removal_problems,
)
from .models import (
    Certificate,
    Choice,
    ContentSource,
    GlossaryTerm,
    Journey,
    LabRun,
    Lesson,
    LessonProgress,
    Module,
    ProvisioningEvent,
    Question,
    Quiz,
    QuizAttempt,
    Sandbox,
    SandboxAssignment,
)
from .progress import reports
from .quizzes.rules import stored_quiz_problems
from .sandbox import cohorts
from .sandbox.expiry import with_last_lab_check
from .sandbox.provisioning import provisioning_enabled

QUESTIONS_WITH_CHOICES = Prefetch("questions", queryset=Question.objects.prefetch_related("choices"))


def _problems_summary(problems):
    first = str(problems[0])
    return first if len(problems) == 1 else f"{first} (and {len(problems) - 1} more)"


def _rerender(lessons):
    count = 0
    for lesson in lessons.select_related("journey", "module"):
        lesson.save()
        count += 1
    return count


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0
    fields = ["order", "title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    show_change_link = True


@admin.register(Journey)
class JourneyAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "order", "is_published", "updated_at"]
    list_editable = ["order", "is_published"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "summary"]
    inlines = [ModuleInline]


class LessonInline(admin.TabularInline):
    model = Lesson
    form = LessonAdminForm
    extra = 0
    fields = ["order", "title", "slug", "minutes", "is_published"]
    show_change_link = True


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "journey", "order"]
    list_editable = ["order"]
    list_filter = ["journey"]
    list_select_related = ["journey"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [LessonInline]


@admin.action(description="Publish the selected lessons")
def publish(modeladmin, request, queryset):
    updated = queryset.update(is_published=True)
    modeladmin.message_user(request, f"{updated} lesson(s) published.", messages.SUCCESS)
    # A lesson goes live without its quiz while the quiz is a draft or breaks a rule: say so.
    quizzes = Quiz.objects.filter(lesson__in=queryset).select_related("lesson").prefetch_related(QUESTIONS_WITH_CHOICES)
    for quiz in quizzes:
        problems = stored_quiz_problems(quiz, list(quiz.questions.all()))
        if problems:
            reason = f"it cannot be taken yet. {_problems_summary(problems)}"
        elif not quiz.is_published:
            reason = "it is a draft: publish it from the quiz list when it is ready."
        else:
            continue
        modeladmin.message_user(
            request, f"The lesson “{quiz.lesson}” is published without its quiz: {reason}", messages.WARNING
        )


@admin.action(description="Unpublish the selected lessons (learners get a 404; staff still see them)")
def unpublish(modeladmin, request, queryset):
    updated = queryset.update(is_published=False)
    modeladmin.message_user(request, f"{updated} lesson(s) unpublished.", messages.SUCCESS)


# A preview post is the lesson form: a few fields and the text. Anything much larger is refused unread.
PREVIEW_MAX_BYTES = 1024 * 1024


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["title", "module_title", "order", "minutes", "is_published", "updated"]
    list_display_links = ["title"]
    list_editable = ["order", "is_published"]
    list_filter = ["journey", "module", "is_published"]
    list_select_related = ["module", "journey"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["page_link", "updated_at"]
    actions = [publish, unpublish]
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["module", "title", "slug", "order", "minutes", "is_published", "page_link"]}),
        ("Text", {"classes": ["lesson-text"], "fields": ["summary", "objectives", "body", "takeaways"]}),
        (None, {"fields": ["updated_at"]}),
    ]

    class Media:
        css = {"all": ["css/admin-authoring.css"]}

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("preview/", preview, name="journeys_lesson_preview"),
            path("<path:object_id>/preview/", preview, name="journeys_lesson_preview"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        name = "admin:journeys_lesson_preview"
        context["preview_url"] = reverse(name, args=[obj.pk]) if obj is not None and obj.pk else reverse(name)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def preview_view(self, request, object_id=None):
        """The lesson form's unsaved text, drawn as the lesson page draws it (site styles). Saves nothing."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"], "Open the preview with the Preview button of a lesson's page.")
        lesson = None
        if object_id is not None:
            lesson = self.get_object(request, object_id)
            if lesson is None:
                raise Http404("No such lesson: it may have been deleted meanwhile.")
        allowed = self.has_change_permission(request, lesson) if lesson else self.has_add_permission(request)
        if not allowed:
            raise PermissionDenied
        try:
            if int(request.META.get("CONTENT_LENGTH") or 0) > PREVIEW_MAX_BYTES:
                raise PreviewTooLargeError(
                    f"The page sent more than {PREVIEW_MAX_BYTES // 1024:,} KiB: a lesson is far shorter. "
                    "Shorten the text, or split it into two lessons."
                )
            draft, problems = lesson_preview(request.POST, instance=lesson)
        except PreviewTooLargeError as too_large:
            response = render(request, "curriculum/lesson_preview.html", {"refused": str(too_large)}, status=413)
        else:
            module = draft.module if draft.module_id else None
            context = {"lesson": draft, "module": module, "problems": problems, "saved": lesson}
            response = render(request, "curriculum/lesson_preview.html", context)
        add_never_cache_headers(response)
        response["X-Robots-Tag"] = "noindex"
        return response

    @admin.display(description="Module", ordering="module__title")
    def module_title(self, lesson):
        return lesson.module.title

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, lesson):
        return date_format(timezone.localtime(lesson.updated_at), "j M Y") if lesson.updated_at else "–"

    @admin.display(description="On the site")
    def page_link(self, lesson):
        if not lesson.pk:
            return "Save the lesson to see it on the site. Preview shows the text you are editing before that."
        state = "" if lesson.is_published else " (draft: only staff can see it)"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Open the lesson page</a>{}', lesson.get_absolute_url(), state
        )


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(admin.ModelAdmin):
    list_display = ["term", "slug", "definition"]
    search_fields = ["term", "definition"]
    prepopulated_fields = {"slug": ["term"]}

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Definitions are baked into the stored HTML of the lessons that show them as tooltips.
        count = _rerender(obj.lessons_mentioning())
        if count:
            self.message_user(request, f"Updated the tooltip in {count} lesson(s).", messages.INFO)


@admin.register(ContentSource)
class ContentSourceAdmin(admin.ModelAdmin):
    list_display = ["path", "loaded_at", "sha256"]
    readonly_fields = ["path", "sha256", "loaded_at"]

    def has_add_permission(self, request):
        return False


# --- Quizzes ---


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 2
    fields = ["order", "text", "is_correct", "feedback"]


class QuestionInline(admin.TabularInline):
    model = Question
    formset = QuestionInlineFormSet
    extra = 0
    fields = ["order", "kind", "prompt", "explanation"]
    show_change_link = True


@admin.action(description="Publish the selected quizzes (only those that break no rule)")
def publish_quizzes(modeladmin, request, queryset):
    ready, refused = [], []
    selected = list(queryset.values_list("pk", flat=True))
    with transaction.atomic():
        # Locked as the quiz and question pages lock them: a question saved meanwhile is checked too.
        locked = Quiz.objects.select_for_update(of=("self",)).filter(pk__in=selected).order_by("pk")
        for quiz in locked.select_related("lesson", "journey").prefetch_related(QUESTIONS_WITH_CHOICES):
            problems = stored_quiz_problems(quiz, list(quiz.questions.all()))
            if problems:
                refused.append(
                    f"“{quiz}” was not published. {_problems_summary(problems)} Fix it, then publish it again."
                )
            else:
                ready.append(quiz.pk)
        if ready:
            Quiz.objects.filter(pk__in=ready).update(is_published=True)
    for message in refused:
        modeladmin.message_user(request, message, messages.ERROR)
    if ready:
        modeladmin.message_user(request, f"{len(ready)} quiz(zes) published.", messages.SUCCESS)


@admin.action(description="Unpublish the selected quizzes (learners no longer see them)")
def unpublish_quizzes(modeladmin, request, queryset):
    updated = queryset.update(is_published=False)
    modeladmin.message_user(request, f"{updated} quiz(zes) unpublished.", messages.SUCCESS)


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    form = QuizAdminForm
    list_display = [
        "__str__",
        "is_final",
        "is_published",
        "problems",
        "pass_mark",
        "reveal",
        "question_count",
        "attempt_count",
        "pass_rate",
    ]
    list_filter = ["journey", "is_final", "is_published"]
    list_select_related = ["lesson", "journey"]
    raw_id_fields = ["lesson"]
    readonly_fields = ["problems"]
    inlines = [QuestionInline]
    actions = [publish_quizzes, unpublish_quizzes]

    def get_queryset(self, request):
        return reports.with_quiz_statistics(super().get_queryset(request))

    def get_changelist(self, request, **kwargs):
        return QuizChangeList

    def get_changeform_initial_data(self, request):
        # A new quiz starts as a draft: its questions get their choices on their own pages first.
        return {"is_published": False, **super().get_changeform_initial_data(request)}

    @admin.display(description="What keeps it from learners")
    def problems(self, quiz):
        if not quiz.pk:
            return "Save the quiz (as a draft) to check it."
        problems = stored_quiz_problems(quiz, list(quiz.questions.all()))
        if problems:
            return _problems_summary(problems)
        return "–" if quiz.is_published else "Nothing: ready to publish"

    @admin.display(description="Questions", ordering="question_count")
    def question_count(self, quiz):
        return quiz.question_count

    @admin.display(description="Attempts", ordering="attempt_count")
    def attempt_count(self, quiz):
        return quiz.attempt_count

    @admin.display(description="Pass rate")
    def pass_rate(self, quiz):
        return f"{100 * quiz.pass_count / quiz.attempt_count:.0f}%" if quiz.attempt_count else "–"


class QuizChangeList(ChangeList):
    """The quiz list checks every listed quiz against the rules: it loads their questions at once."""

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).prefetch_related(QUESTIONS_WITH_CHOICES)


def delete_questions(modeladmin, request, queryset):
    """Admin's own bulk delete, refused when it would leave a published quiz breaking its rules."""
    refusals = question_removal_problems(list(queryset))
    if refusals:
        for message in refusals:
            modeladmin.message_user(request, f"No question was deleted. {message}", messages.ERROR)
        return None
    return delete_selected(modeladmin, request, queryset)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    """Doubles as the question statistics report: weakest questions first."""

    form = QuestionAdminForm
    list_display = ["short_prompt", "quiz", "kind", "answered", "correct_rate", "most_chosen_wrong"]
    list_filter = ["quiz__journey", "kind", "quiz__is_final", "quiz"]
    list_select_related = ["quiz__lesson", "quiz__journey"]
    search_fields = ["prompt"]
    inlines = [ChoiceInline]

    class Media:
        css = {"all": ["css/admin-authoring.css"]}
        js = ["js/admin-question.js"]

    def _kind(self, request, question):
        """The kind the page is about: the one just posted (a refused save shows it again), else the stored one."""
        if request.method == "POST":
            return request.POST.get("kind", "")
        return question.kind if question is not None else ""

    def get_fieldsets(self, request, obj=None):
        """Only the fields the question's kind uses; the others folded away (js/admin-question.js follows a change)."""
        kind = self._kind(request, obj)
        if request.method == "POST":
            values = {name: request.POST.get(name, "").strip() for name in KIND_FIELDS}
        else:
            values = {name: getattr(obj, name, None) for name in KIND_FIELDS}
        used, unused = kind_field_groups(kind, values)
        fieldsets = [
            (None, {"fields": ["quiz", "order", "kind", "prompt", "explanation"]}),
            (
                "Answers and feedback",
                {
                    "classes": ["kind-fields"],
                    "fields": used,
                    "description": _kind_fields_description(kind, used, unused),
                },
            ),
        ]
        if unused:
            label = Question.Kind(kind).label
            fieldsets.append(
                (
                    f"Not used by {label.lower()} questions",
                    {
                        "classes": ["collapse", "kind-fields-unused"],
                        "fields": unused,
                        "description": "Leave these empty; they are here for when you change the kind of question.",
                    },
                )
            )
        return fieldsets

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)
        kind = self._kind(request, obj)
        if kind in Question.Kind.values and kind not in KIND_FIELDS["choices"]:
            for inline in inlines:
                if isinstance(inline, ChoiceInline):
                    # Folded, not removed: the choices a question still has must stay visible (saving refuses them).
                    has_choices = obj is not None and obj.pk and obj.choices.exists()
                    if not has_choices:
                        inline.classes = ["collapse"]
                        inline.extra = 0
                        label = Question.Kind(kind).label.lower()
                        inline.verbose_name_plural = f"Choices (not used by {label} questions)"
        return inlines

    def get_queryset(self, request):
        return reports.with_question_statistics(super().get_queryset(request))

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            actions["delete_selected"] = (
                delete_questions,
                "delete_selected",
                delete_selected.short_description,
            )
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        question = self.get_object(request, unquote(object_id))
        refusals = []
        if question is not None and self.has_delete_permission(request, question):
            refusals = question_removal_problems([question])
        if refusals:
            for message in refusals:
                self.message_user(request, f"The question was not deleted. {message}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:journeys_question_change", args=[question.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_ordering(self, request):
        return [F("percent_correct").asc(nulls_last=True), "quiz", "order"]

    @admin.display(description="Question")
    def short_prompt(self, question):
        return str(question)

    @admin.display(description="Answered", ordering="answered")
    def answered(self, question):
        return question.answered

    @admin.display(description="Correct", ordering="percent_correct")
    def correct_rate(self, question):
        return "–" if question.percent_correct is None else f"{question.percent_correct:.0f}%"

    @admin.display(description="Most chosen wrong answer")
    def most_chosen_wrong(self, question):
        return question.most_chosen_wrong or "–"


def _kind_fields_description(kind, used, unused):
    if not unused:
        return "Which of these a question uses depends on its kind: each one's help says which."
    if not used:
        return f"A {Question.Kind(kind).label.lower()} question needs none of these: its answer is in its choices."
    return ""


# --- Learners ---


class LearnerColumn:
    """The owner of a learner record: a user, or an anonymous visitor before sign-up."""

    @admin.display(description="Learner", ordering="user__username")
    def learner(self, record):
        return record.user or "anonymous visitor"


@admin.register(LessonProgress)
class LessonProgressAdmin(LearnerColumn, admin.ModelAdmin):
    list_display = ["learner", "lesson", "completed_at", "completed_via", "last_viewed_at"]
    list_filter = ["completed_via", "lesson__journey", "lesson"]
    list_select_related = ["user", "lesson"]
    search_fields = ["user__username", "user__email", "lesson__title"]
    readonly_fields = ["user", "anon_key", "lesson", "completed_at", "completed_via", "last_viewed_at"]


@admin.register(QuizAttempt)
class QuizAttemptAdmin(LearnerColumn, admin.ModelAdmin):
    list_display = ["learner", "quiz", "score", "passed", "submitted_at"]
    list_filter = ["passed", "quiz__journey", "quiz__is_final"]
    list_select_related = ["user", "quiz__lesson", "quiz__journey"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = [field.name for field in QuizAttempt._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = ["learner_name", "user", "journey", "issued_at", "code"]
    list_select_related = ["user", "journey"]
    search_fields = ["learner_name", "user__username", "code"]
    readonly_fields = ["code", "issued_at"]


class LessonProgressInline(admin.TabularInline):
    model = LessonProgress
    fields = ["lesson", "completed_at", "completed_via", "last_viewed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Lesson progress"

    def has_add_permission(self, request, obj=None):
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class LearnerUserAdmin(UserAdmin):
    list_display = [*UserAdmin.list_display, "lessons_completed", "last_activity"]
    inlines = [LessonProgressInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                completed=Count("lessonprogress", filter=Q(lessonprogress__completed_at__isnull=False)),
                last_seen=Max("lessonprogress__last_viewed_at"),
            )
        )

    @admin.display(description="Lessons completed", ordering="completed")
    def lessons_completed(self, user):
        return user.completed

    @admin.display(description="Last lesson viewed", ordering="last_seen")
    def last_activity(self, user):
        return user.last_seen


admin.site.unregister(Group)


@admin.action(description="Download the progress report of the selected cohorts (CSV)")
def download_cohort_report(modeladmin, request, queryset):
    response = HttpResponse(reports.cohort_progress_csv(list(queryset)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cohort-progress.csv"'
    return response


def _report_tally(request, tally, verb):
    level = messages.WARNING if tally.failed or tally.pending else messages.SUCCESS
    messages.add_message(request, level, tally.summary(verb))
    if tally.failed:
        messages.error(request, f"Failed: {tally.failures()}")


@admin.action(description="Create sandboxes for everyone in these groups", permissions=["create_sandboxes"])
def create_cohort_sandboxes(modeladmin, request, queryset):
    members = get_user_model().objects.filter(groups__in=queryset, is_active=True).distinct().order_by("username")
    _report_tally(request, cohorts.create_for_users(members, actor=request.user), "Sandboxes ready:")


@admin.action(description="Remove the sandboxes of everyone in these groups", permissions=["remove_sandboxes"])
def remove_cohort_sandboxes(modeladmin, request, queryset):
    rows = Sandbox.objects.filter(user__groups__in=queryset).select_related("user").distinct()
    _report_tally(request, cohorts.remove_sandboxes(rows, actor=request.user), "Sandboxes removed:")


@admin.register(Group)
class CohortAdmin(GroupAdmin):
    """Groups are the cohorts a team runs learners in."""

    list_display = ["name", "member_count"]
    actions = [download_cohort_report, create_cohort_sandboxes, remove_cohort_sandboxes]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not provisioning_enabled():
            actions.pop("create_cohort_sandboxes", None)
            actions.pop("remove_cohort_sandboxes", None)
        return actions

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members=Count("user"))

    # The cluster changes these actions make need the sandbox permissions, not merely access to groups.
    def has_create_sandboxes_permission(self, request):
        return request.user.has_perm("journeys.add_sandbox")

    def has_remove_sandboxes_permission(self, request):
        return request.user.has_perm("journeys.delete_sandbox")

    @admin.display(description="Learners", ordering="members")
    def member_count(self, group):
        return group.members


# --- Sandbox ---


@admin.register(SandboxAssignment)
class SandboxAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "namespace", "context"]
    search_fields = ["user__username", "namespace"]
    raw_id_fields = ["user"]


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin):
    """Provisioned sandboxes, read-only: the cluster is changed through the sandbox services, never here."""

    # State before the dates: at 1366 px beside the admin's menu the last column can scroll out of view.
    list_display = ["learner", "namespace", "state", "last_lab_check", "last_checked", "created_at"]
    list_filter = ["state"]
    list_select_related = ["user"]
    search_fields = ["user__username", "namespace"]
    readonly_fields = ["user", "namespace", "state", "created_at", "last_checked", "last_error"]
    actions = ["remove_selected"]

    @admin.action(description="Remove selected sandboxes (their namespaces too)", permissions=["remove"])
    def remove_selected(self, request, queryset):
        _report_tally(request, cohorts.remove_sandboxes(queryset.select_related("user"), actor=request.user),
                      "Sandboxes removed:")  # fmt: skip

    def has_delete_permission(self, request, obj=None):
        # Deleting only the row would leave the namespace behind: removal goes through the action.
        return False

    def has_remove_permission(self, request):
        # What Django's delete permission would mean here: removing a sandbox is deleting it, namespace and all.
        return request.user.has_perm("journeys.delete_sandbox")

    @admin.display(description="Learner", ordering="user__username")
    def learner(self, sandbox):
        return sandbox.user or "deleted account"

    def get_queryset(self, request):
        return with_last_lab_check(super().get_queryset(request))

    @admin.display(description="Last lab check", ordering="last_run", empty_value="never")
    def last_lab_check(self, sandbox):
        return sandbox.last_run

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProvisioningEvent)
class ProvisioningEventAdmin(admin.ModelAdmin):
    """The audit trail of provisioning: who asked for what, when, and how it went."""

    list_display = ["created_at", "actor_name", "learner_name", "action", "namespace", "outcome"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_name", "learner_name", "namespace", "reason"]
    readonly_fields = [field.name for field in ProvisioningEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LabRun)
class LabRunAdmin(LearnerColumn, admin.ModelAdmin):
    list_display = ["created_at", "learner", "lab_slug", "outcome", "source", "namespace", "error_code", "duration_ms"]
    list_filter = ["outcome", "lab_slug", "source", "error_code"]
    list_select_related = ["user"]
    search_fields = ["user__username", "namespace", "error_message"]
    readonly_fields = [field.name for field in LabRun._meta.fields]

    def has_add_permission(self, request):
        return False
