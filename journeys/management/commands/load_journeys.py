"""Import the curriculum files into the database.

Why a command and not a data migration: the curriculum changes far more often than the schema,
authors need to validate their files before committing them (``--check``), and the import must
be safe to run on every start of the portal (it is idempotent and skips unchanged files).
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, DataError, IntegrityError

from journeys.curriculum.files import CurriculumError, read_curriculum
from journeys.curriculum.loader import LoadError, load_curriculum


def _database_failure(error, directory, source=""):
    """Say what the database refused, and where, in words that lead to the fix."""
    detail = f"{error.__class__.__name__}: {(str(error).strip().splitlines() or [''])[0]}"
    where = ""
    if source:
        path = Path(directory) / source
        relative = os.path.relpath(path)
        where = path.as_posix() if relative.startswith("..") else Path(relative).as_posix()
    if isinstance(error, (DataError, IntegrityError)):
        # The files passed the check, so the database holds a limit the check does not know.
        if where:
            return (
                f"{where}: the database refused a value from this file ({detail}), although the file passed "
                "the check; nothing was imported. Correct that value in the file and load again."
            )
        return f"The database refused a value from the curriculum files ({detail}); nothing was imported."
    within = f" while importing {where}" if where else ""
    return f"The database is not ready ({detail}){within}. Run `python manage.py migrate` first; nothing was imported."


class Command(BaseCommand):
    help = "Validate the curriculum files and import them into the database (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            nargs="?",
            default=None,
            help="Content directory (default: the JOURNEYS_CONTENT_DIR setting, journeys/content).",
        )
        parser.add_argument("--check", action="store_true", help="Validate every file and write nothing.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load every file, even those unchanged since the last load (overwrites edits made in admin).",
        )

    def handle(self, *args, directory=None, check=False, force=False, verbosity=1, **options):
        directory = directory or settings.JOURNEYS_CONTENT_DIR
        try:
            curriculum = read_curriculum(directory)
        except CurriculumError as invalid:
            for error in invalid.errors:
                self.stderr.write(str(error))
            count = len(invalid.errors)
            raise CommandError(f"{count} problem{'s' if count != 1 else ''} found; nothing was imported.") from None

        lessons = sum(len(journey.lessons) for journey in curriculum.journeys)
        summary = f"{len(curriculum.journeys)} journey(s), {lessons} lessons, {len(curriculum.glossary)} glossary terms"
        if check:
            self.stdout.write(self.style.SUCCESS(f"Curriculum is valid: {summary}. Nothing was written."))
            return

        try:
            report = load_curriculum(curriculum, force=force)
        except LoadError as failure:
            raise CommandError(_database_failure(failure.error, directory, failure.source)) from None
        except DatabaseError as exc:
            raise CommandError(_database_failure(exc, directory)) from None
        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {summary}: {report.created} created, {report.updated} updated, "
                    f"{report.unchanged + report.skipped_files} unchanged."
                )
            )
            if report.database_only_lessons:
                self.stdout.write(
                    self.style.WARNING(
                        "These lessons exist only in the database (run export_journeys to keep them as files): "
                        + ", ".join(report.database_only_lessons)
                    )
                )
