import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure an operator superuser exists: CVENGINE_ADMIN_EMAIL / CVENGINE_ADMIN_PASSWORD when set, "
        "otherwise admin@cvengine.local with a generated password printed once."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        email = os.environ.get("CVENGINE_ADMIN_EMAIL", "").strip().lower()
        password = os.environ.get("CVENGINE_ADMIN_PASSWORD", "")
        if email:
            if User.objects.filter(email__iexact=email).exists():
                self.stdout.write(f"Operator account {email} exists.")
                return
        elif User.objects.filter(role=User.Role.SUPERUSER, is_active=True).exists():
            self.stdout.write("An active superuser exists.")
            return
        email = email or "admin@cvengine.local"
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(email, password, first_name="Admin", last_name="")
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created superuser {email} with password: {password}\n"
                    "This password is shown only once. Change it after the first login."
                )
            )
        else:
            self.stdout.write(f"Created superuser {email}.")
