from organizations.models import ImportJob

from ._import_base import ImportCommand


class Command(ImportCommand):
    help = "Import the school contacts workbook (matched to schools by local authority and name); --dry-run checks."
    kind = ImportJob.Kind.CONTACTS
