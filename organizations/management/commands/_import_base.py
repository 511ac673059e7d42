"""Shared by import_organizations and import_contacts: the same job service as the API, run in this process."""

import sys
import time
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import APIException

from organizations import imports
from organizations.models import ImportJob

BAR_WIDTH = 30


class ProgressBar:
    """``[#######-------]  45%  11,000 / 24,891 rows`` (a running count while the total is unknown)."""

    def __init__(self, stream, enabled: bool = True):
        self.stream, self.enabled = stream, enabled
        self.started = time.monotonic()
        self._last = ""

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        rate = f"{done / elapsed:,.0f} rows/s" if elapsed > 0 and done else ""
        if total:
            filled = int(BAR_WIDTH * done / total)
            line = f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {100 * done // total:3d}%  {done:,} / {total:,} rows"
        else:
            line = f"[{'.' * (done // 1000 % (BAR_WIDTH + 1)):<{BAR_WIDTH}}] {done:,} rows read"
        line = f"{line}  {rate}"
        self.stream.write("\r" + line.ljust(len(self._last)))
        self.stream.flush()
        self._last = line

    def finish(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser):
        parser.add_argument("file", help="The workbook (.xlsx, .xls, .ods or .csv).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report; write nothing (rolled back)."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file, dry_run=False, no_progress=False, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as handle:
            try:
                job = imports.start_import(
                    self.kind, File(handle, name=path.name), dry_run, None, enqueue=False
                )
            except APIException as exc:
                detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
                reason = getattr(exc, "extra", {}).get("reason")
                raise CommandError(f"{detail} {reason}" if reason else detail)
        bar = ProgressBar(self.stdout, enabled=not no_progress)
        started = time.monotonic()
        imports.run_job(job.id, progress=bar)
        bar.finish()
        job.refresh_from_db()
        self._report(job, time.monotonic() - started)
        if job.status == ImportJob.Status.FAILED:
            sys.exit(1)

    def _report(self, job: ImportJob, seconds: float) -> None:
        out = self.stdout
        if job.status == ImportJob.Status.FAILED:
            out.write(self.style.ERROR(f"Import failed: {job.error}"))
        summary = job.summary or {}
        counts = summary.get("counts")
        if counts:
            rate = counts["rows"] / seconds if seconds > 0 else 0
            out.write(
                f"{'Dry run: ' if job.dry_run else ''}{counts['rows']:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s): "
                f"{counts['created']:,} created, {counts['updated']:,} updated, {counts['unchanged']:,} unchanged, "
                f"{counts['skipped']:,} skipped, {counts['unmatched']:,} unmatched, {counts['ambiguous']:,} ambiguous; "
                f"{counts['errors']:,} errors, {counts['warnings']:,} warnings."
            )
        if job.rejects_file:
            out.write(f"Rejected rows: {imports.rejects_url(job)} (job {job.id})")
        if job.status == ImportJob.Status.COMPLETED:
            out.write(self.style.SUCCESS(f"Import {job.id} completed."))
