"""The curriculum: Journey → Module → Lesson, and the glossary shared by every journey.

Markdown fields are rendered to sanitized HTML on save (see ``journeys.curriculum.markdown``) and the
result is stored, so pages never run Markdown per request.
"""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse

from ..content_rules import docs_site_name, validate_docs_url, validate_kubernetes_version
from ..curriculum import markdown as lesson_markdown
from ..curriculum import words as search_words

SLUG_HELP = "Lowercase letters, digits and hyphens; part of the page address."


def can_preview_drafts(user):
    return bool(user is not None and user.is_active and user.is_staff)


class CurriculumQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Bulk updates (admin's publish action, scripts) send no signals; cached reads must still see them.
        from ..pages.content_version import content_changed

        count = super().update(**kwargs)
        content_changed()
        return count


class VisibilityQuerySet(CurriculumQuerySet):
    def published(self):
        return self.filter(is_published=True)

    def visible_to(self, user):
        """Staff preview drafts; everyone else sees published content only."""
        return self if can_preview_drafts(user) else self.published()


class Journey(models.Model):
    slug = models.SlugField(unique=True, help_text=SLUG_HELP)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="One or two sentences shown on the home page.")
    description = models.TextField(blank=True, help_text="Markdown shown at the top of the journey page.")
    description_html = models.TextField(blank=True, editable=False)
    kubernetes_version = models.CharField(
        "Kubernetes version",
        max_length=10,
        blank=True,
        validators=[validate_kubernetes_version],
        help_text='The release whose documentation the lessons were checked against, such as "1.34". '
        "Shown on the journey and lesson pages.",
    )
    order = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField("published", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisibilityQuerySet.as_manager()

    class Meta:
        ordering = ["order", "title"]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.description = lesson_markdown.normalize_source(self.description)
        self.description_html = lesson_markdown.render_markdown(self.description, journey_slug=self.slug).html
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("journeys:journey", kwargs={"journey_slug": self.slug})


class Module(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="modules")
    slug = models.SlugField(help_text=SLUG_HELP)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    order = models.PositiveIntegerField(default=0)

    objects = CurriculumQuerySet.as_manager()

    class Meta:
        ordering = ["journey", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "slug"], name="module_slug_unique_in_journey"),
        ]

    def __str__(self):
        return f"{self.journey.title} › {self.title}"

    def get_absolute_url(self):
        return f"{self.journey.get_absolute_url()}#module-{self.slug}"


class LessonQuerySet(VisibilityQuerySet):
    def visible_to(self, user):
        if can_preview_drafts(user):
            return self
        return self.published().filter(journey__is_published=True)

    def in_outline_order(self):
        return self.order_by("module__order", "module_id", "order", "id")


class Lesson(models.Model):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    # Copied from the module on save: lesson slugs are unique per journey, which a database
    # constraint can only enforce when the journey sits on the lesson row itself.
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="lessons", editable=False)
    slug = models.SlugField(help_text=SLUG_HELP)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True, help_text="Shown on the journey page and in search results.")
    minutes = models.PositiveIntegerField("estimated minutes", default=10)
    objectives = models.JSONField(default=list, blank=True)
    takeaways = models.JSONField(default=list, blank=True)
    body = models.TextField(help_text="Markdown. [[term]] marks a glossary term; (lesson:slug) links a lesson.")
    body_html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    # For search without parsing Markdown per request: the stems of search_text (what SQLite matches)
    # and the words of the title and headings (what a mistyped word is corrected to).
    search_stems = models.TextField(blank=True, editable=False)
    search_vocabulary = models.TextField(blank=True, editable=False)
    # PostgreSQL only: the weighted full-text document, kept up to date by a trigger (migration 0006);
    # always NULL on SQLite, which searches search_stems instead.
    search_document = SearchVectorField(null=True, editable=False)
    order = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField("published", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    # Large and only for search: pages that show a lesson leave them unread.
    SEARCH_FIELDS = ("search_text", "search_stems", "search_vocabulary", "search_document")

    class Meta:
        ordering = ["module__order", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "slug"], name="lesson_slug_unique_in_journey"),
        ]
        indexes = [models.Index(fields=["journey", "is_published"])]

    def __str__(self):
        return self.title

    def save(self, *args, render=True, **kwargs):
        self.journey_id = self.module.journey_id
        # Browsers submit textareas with CRLF; files and exports use LF.
        self.body = lesson_markdown.normalize_source(self.body)
        if render:
            self.render()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return lesson_markdown.lesson_url(self.journey.slug, self.slug)

    def render(self, *, glossary=None, known_lessons=None):
        """Refresh the stored HTML, table of contents and search fields from the Markdown body."""
        if glossary is None:
            glossary = GlossaryTerm.objects.as_entries()
        if known_lessons is None:
            known_lessons = set(Lesson.objects.filter(journey_id=self.journey_id).values_list("slug", flat=True))
            known_lessons.add(self.slug)
        rendered = lesson_markdown.render_markdown(
            self.body, journey_slug=self.journey.slug, glossary=glossary, known_lessons=known_lessons
        )
        self.body_html = rendered.html
        self.toc = rendered.toc
        self.search_text = " ".join([self.title, self.summary, *self.objectives, rendered.text, *self.takeaways])
        for name, value in search_words.lesson_search_fields(
            title=self.title, search_text=self.search_text, toc=self.toc
        ).items():
            setattr(self, name, value)


class HttpsURLField(models.URLField):
    """A URL field whose form treats an address typed without a scheme as https (Django 6's default)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})

    def deconstruct(self):
        # Migrations name the field by the path it had when it was written: keep writing that one.
        name, _, args, kwargs = super().deconstruct()
        return name, "journeys.models.HttpsURLField", args, kwargs


class GlossaryQuerySet(CurriculumQuerySet):
    def as_entries(self):
        return {
            slug: lesson_markdown.GlossaryEntry(slug, term, definition)
            for slug, term, definition in self.values_list("slug", "term", "definition")
        }


class GlossaryTerm(models.Model):
    slug = models.SlugField(unique=True, help_text=SLUG_HELP)
    term = models.CharField(max_length=120)
    definition = models.TextField(help_text="Plain text, one to three sentences; shown in tooltips.")
    docs_url = HttpsURLField(
        "documentation link",
        max_length=300,
        blank=True,
        validators=[validate_docs_url],
        help_text="The page about this term in the official documentation: https://kubernetes.io/... "
        "(https://helm.sh/... for Helm terms). Shown in the glossary.",
    )

    objects = GlossaryQuerySet.as_manager()

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term

    def get_absolute_url(self):
        return lesson_markdown.glossary_url(self.slug)

    @property
    def docs_site(self):
        """Whose documentation ``docs_url`` belongs to, for the link text."""
        return docs_site_name(self.docs_url)

    def lessons_mentioning(self):
        return Lesson.objects.filter(Q(body__contains=f"[[{self.slug}]]") | Q(body__contains=f"[[{self.slug}|"))


class ContentSource(models.Model):
    """A curriculum file as last loaded, so an unchanged file does not overwrite edits made in admin."""

    path = models.CharField(max_length=500, unique=True)
    sha256 = models.CharField(max_length=64)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.path
