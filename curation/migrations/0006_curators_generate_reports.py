"""Curators may generate the link report now: "Generate now" needs add on LinkReport."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant_add_linkreport(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Curators")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="curation", codename="add_linkreport")
    )


def keep_permission(apps, schema_editor):
    # Reversing leaves the grant: a curator who was given it by hand would lose it otherwise.
    pass


class Migration(migrations.Migration):
    dependencies = [("curation", "0005_api_indexes")]

    operations = [migrations.RunPython(grant_add_linkreport, keep_permission)]
