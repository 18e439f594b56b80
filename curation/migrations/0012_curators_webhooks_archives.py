"""Curators run the second wave's admin pages: webhook endpoints (with their delivery log) and
the archived copies of their resources. Without this only a superuser could register a webhook."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = [
    "view_webhookendpoint",
    "add_webhookendpoint",
    "change_webhookendpoint",
    "delete_webhookendpoint",
    "view_webhookdelivery",
    "view_webhookattempt",
    "view_archivedsnapshot",
]


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Curators")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="curation", codename__in=GRANTS)
    )


def keep_grants(apps, schema_editor):
    # Reversing leaves the grants: a curator given them by hand would lose them otherwise.
    pass


class Migration(migrations.Migration):
    dependencies = [("curation", "0011_scale_indexes")]

    operations = [migrations.RunPython(grant, keep_grants)]
