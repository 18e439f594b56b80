"""Drop the plain index on Resource.language: no query uses it.

The language filter compares UPPER(language) (Django's iexact and istartswith), served on
PostgreSQL by resource_language_upper (0011); SQLite's case-insensitive LIKE cannot use a
plain index either. At a million rows the index held 6.2 MiB and cost every insert and every
language change a write. No data changes; reversing recreates it.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("curation", "0012_curators_webhooks_archives"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="resource", name="resource_language"),
    ]
