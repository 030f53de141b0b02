"""Forms for the curriculum editors in Django admin."""

from django import forms
from django.core.exceptions import ValidationError

from .markdown import find_references
from .models import GlossaryTerm, Lesson


class LinesField(forms.CharField):
    """A list of short texts edited as one item per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return "\n".join(value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class LessonAdminForm(forms.ModelForm):
    objectives = LinesField(required=False, help_text="One objective per line.")
    takeaways = LinesField(required=False, help_text="One key takeaway per line.")

    class Meta:
        model = Lesson
        fields = [
            "module",
            "title",
            "slug",
            "order",
            "minutes",
            "is_published",
            "summary",
            "objectives",
            "body",
            "takeaways",
        ]

    def clean_body(self):
        body = self.cleaned_data["body"].replace("\r\n", "\n")
        module = self.cleaned_data.get("module")
        known_terms = set(GlossaryTerm.objects.values_list("slug", flat=True))
        known_lessons = set()
        if module is not None:
            known_lessons = set(Lesson.objects.filter(journey_id=module.journey_id).values_list("slug", flat=True))
        known_lessons.add(self.cleaned_data.get("slug") or (self.instance.slug if self.instance else ""))
        problems = []
        for reference in find_references(body):
            if reference.kind == "glossary" and reference.slug not in known_terms:
                problems.append(f"Line {reference.line}: there is no glossary term '{reference.slug}'.")
            elif reference.kind == "lesson" and reference.slug not in known_lessons:
                problems.append(f"Line {reference.line}: there is no lesson '{reference.slug}' in this journey.")
        if problems:
            raise ValidationError(problems)
        return body

    def clean(self):
        cleaned = super().clean()
        module, slug = cleaned.get("module"), cleaned.get("slug")
        if module is not None and slug:
            clash = Lesson.objects.filter(journey_id=module.journey_id, slug=slug).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("slug", "Another lesson of this journey already uses this slug.")
        return cleaned
