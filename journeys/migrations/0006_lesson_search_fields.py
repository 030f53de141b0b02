import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from journeys.curriculum.words import lesson_search_fields


class EnableTrigrams(TrigramExtension):
    """pg_trgm for typo suggestions on PostgreSQL; nothing on SQLite. Migrating back leaves it in place:
    something else in the database may use it (and Django's own reverse queries PostgreSQL's catalog
    even on SQLite)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


# PostgreSQL keeps each lesson's weighted full-text document up to date itself, whatever writes the
# row (admin, the loader, a bulk update): title A, summary and headings B, the whole text C.
CREATE_TRIGGER = """
CREATE FUNCTION journeys_lesson_search_document() RETURNS trigger AS $$
BEGIN
    NEW.search_document :=
        setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(NEW.summary, '') || ' ' || coalesce(NEW.search_vocabulary, '')), 'B')
        || setweight(to_tsvector('english', coalesce(NEW.search_text, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER journeys_lesson_search_document
    BEFORE INSERT OR UPDATE OF title, summary, search_vocabulary, search_text ON journeys_lesson
    FOR EACH ROW EXECUTE FUNCTION journeys_lesson_search_document();
"""
DROP_TRIGGER = """
DROP TRIGGER IF EXISTS journeys_lesson_search_document ON journeys_lesson;
DROP FUNCTION IF EXISTS journeys_lesson_search_document();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_TRIGGER)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER)


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
        EnableTrigrams(),
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
        migrations.AddField(
            model_name="lesson",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create_trigger, drop_trigger),
        # Every row is written again, so the trigger fills search_document too.
        migrations.RunPython(fill_search_fields, migrations.RunPython.noop, elidable=True),
    ]
