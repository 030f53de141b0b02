from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .forms import LessonAdminForm
from .models import ContentSource, GlossaryTerm, Journey, Lesson, Module


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


@admin.action(description="Unpublish the selected lessons (learners get a 404; staff still see them)")
def unpublish(modeladmin, request, queryset):
    updated = queryset.update(is_published=False)
    modeladmin.message_user(request, f"{updated} lesson(s) unpublished.", messages.SUCCESS)


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ["title", "module", "order", "minutes", "is_published", "updated_at"]
    list_editable = ["order", "is_published"]
    list_filter = ["journey", "module", "is_published"]
    list_select_related = ["module", "journey"]
    search_fields = ["title", "summary", "body"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["page_link", "preview", "updated_at"]
    actions = [publish, unpublish]
    save_on_top = True
    fieldsets = [
        (None, {"fields": ["module", "title", "slug", "order", "minutes", "is_published", "page_link"]}),
        ("Text", {"fields": ["summary", "objectives", "body", "takeaways"]}),
        ("Rendered preview (as saved)", {"classes": ["collapse"], "fields": ["preview", "updated_at"]}),
    ]

    class Media:
        css = {"all": ["css/admin-preview.css"]}

    @admin.display(description="On the site")
    def page_link(self, lesson):
        if not lesson.pk:
            return "Save the lesson to see it on the site."
        state = "" if lesson.is_published else " (draft: only staff can see it)"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Open the lesson page</a>{}', lesson.get_absolute_url(), state
        )

    @admin.display(description="Preview")
    def preview(self, lesson):
        if not lesson.pk:
            return "The preview appears after the first save."
        # body_html was sanitized with an allowlist when it was rendered on save.
        return format_html('<div class="lesson-preview">{}</div>', mark_safe(lesson.body_html))  # noqa: S308


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
