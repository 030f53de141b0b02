"""Write the curriculum in the database back to files.

Why: admins edit lessons in Django admin, but the files in the repository are what gets reviewed,
versioned and shipped. Exporting turns those edits into files that ``load_journeys`` reads back to
exactly the same state.

A quiz the file check would refuse (a draft still being written, or a published quiz that breaks a
rule and so is hidden from learners) is not written: a warning on stderr names it and its first
problem, and the rest is exported (exit 0), as a draft in progress is no reason to hold back the
lessons around it.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from journeys.curriculum.loader import export_curriculum


class Command(BaseCommand):
    help = "Export journeys, lessons and the glossary to a directory as curriculum files."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="Where to write the files (created if missing; files are overwritten).")

    def handle(self, *args, directory, verbosity=1, **options):
        target = Path(directory)
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} exists and is not a directory.")
        skipped = []
        try:
            written = export_curriculum(target, skipped=skipped)
        except OSError as exc:
            raise CommandError(f"Could not write to {target}: {exc.strerror or exc}.") from None
        if verbosity >= 2:
            for path in written:
                self.stdout.write(f"  {path}")
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(written)} files to {target}."))
        for reason in skipped:
            self.stderr.write(self.style.WARNING(f"Not written: {reason}. Finish it in admin and export again."))
