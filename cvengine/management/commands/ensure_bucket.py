from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cvengine import storage


class Command(BaseCommand):
    help = "Create the private S3 bucket if it does not exist and refuse a publicly readable one."

    def handle(self, *args, **options):
        if not storage.is_s3():
            self.stdout.write("STORAGE_BACKEND is local: nothing to do.")
            return
        created = storage.ensure_bucket()
        problems = storage.public_access_problems()
        if problems:
            raise CommandError(f"Bucket '{settings.STORAGE_BUCKET}' is public: {'; '.join(problems)}")
        self.stdout.write(
            f"Bucket '{settings.STORAGE_BUCKET}' {'created' if created else 'exists'} and is private."
        )
