from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from config.env import env_str


class Command(BaseCommand):
    help = (
        "Make sure the superuser exists (for `make run`, and at each deploy: README, Running "
        "at scale). Uses SYLLABUS_ADMIN_USERNAME and SYLLABUS_ADMIN_PASSWORD; without a "
        "password, generates one and prints it once."
    )

    def handle(self, *args, **options) -> None:
        User = get_user_model()
        username = settings.SYLLABUS_ADMIN_USERNAME
        password = env_str("SYLLABUS_ADMIN_PASSWORD", "")
        user = User.objects.filter(username=username).first()
        if user is not None:
            if password and not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(
                    f"Admin login: {username} (password from SYLLABUS_ADMIN_PASSWORD)"
                )
            else:
                self.stdout.write(f"Admin login: {username} (existing account, password unchanged)")
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(
            username=username, email=settings.SYLLABUS_ADMIN_EMAIL, password=password
        )
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin login {username!r} with password {password!r} "
                    "(shown once: set SYLLABUS_ADMIN_PASSWORD to choose your own)"
                )
            )
        else:
            self.stdout.write(
                f"Created admin login {username!r} (password from SYLLABUS_ADMIN_PASSWORD)"
            )
