from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand

from curation.schedules import ensure_default_schedules

# Schedules other parts of the app define: created here too, so that `make run` needs one
# command. Each is optional (the module may not exist in this checkout).
OTHER_SCHEDULES = (
    ("curation.metadata_tasks", "ensure_metadata_schedule"),
    ("curation.report_schedule", "ensure_report_schedule"),
)


class Command(BaseCommand):
    help = "Create the default beat schedules (link checks, pruning, metadata, reports) if missing."

    def handle(self, *args, **options) -> None:
        created = ensure_default_schedules()
        for module_name, function_name in OTHER_SCHEDULES:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            getattr(module, function_name)()
        if created:
            self.stdout.write(f"Created schedules: {', '.join(created)}")
        else:
            self.stdout.write("Link-check schedules already exist; left untouched.")
