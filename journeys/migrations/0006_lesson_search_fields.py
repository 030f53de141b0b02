from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from journeys.curriculum.words import lesson_search_fields


def fill_search_fields(apps, schema_editor):
    """Lessons stored before these fields existed get them from the text and headings they already have."""
    Lesson = apps.get_model("journeys", "Lesson")
    for lesson in Lesson.objects.only("id", "title", "search_text", "toc").iterator():
        fields = lesson_search_fields(title=lesson.title, search_text=lesson.search_text, toc=lesson.toc)
        Lesson.objects.filter(pk=lesson.pk).update(**fields)


class Migration(migrations.Migration):
    dependencies = [
        ("journeys", "0005_journey_kubernetes_version_glossary_docs_url"),
    ]

    operations = [
        # Typo suggestions on PostgreSQL use trigram similarity; on SQLite this operation does nothing.
        TrigramExtension(),
        migrations.AddField(
            model_name="lesson",
            name="search_stems",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="lesson",
            name="search_vocabulary",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(fill_search_fields, migrations.RunPython.noop, elidable=True),
    ]
