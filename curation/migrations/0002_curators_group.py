from django.contrib.auth.management import create_permissions
from django.db import migrations

CURATOR_PERMISSIONS = {
    "resource": ("view", "add", "change"),
    "topic": ("view", "add", "change"),
    "collection": ("view", "add", "change"),
    "collectionsection": ("view", "add", "change", "delete"),
    "collectionitem": ("view", "add", "change", "delete"),
    "metadatasuggestion": ("view", "change"),
    "linkcheck": ("view",),
    "healthtransition": ("view",),
    "checkerincident": ("view",),
    "linkreport": ("view",),
}


def create_curators_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Curators")
    wanted = [
        f"{action}_{model}" for model, actions in CURATOR_PERMISSIONS.items() for action in actions
    ]
    permissions = Permission.objects.filter(content_type__app_label="curation", codename__in=wanted)
    group.permissions.add(*permissions)


def keep_group(apps, schema_editor):
    # Reversing leaves the group: deleting it would drop curators' memberships.
    pass


class Migration(migrations.Migration):
    dependencies = [
        ("curation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_curators_group, keep_group)]
