from organizations.models import ImportJob

from ._import_base import ImportCommand


class Command(ImportCommand):
    help = "Import the schools workbook (upsert by URN, offline geocoding) with a progress bar; --dry-run checks."
    kind = ImportJob.Kind.ORGANIZATIONS
