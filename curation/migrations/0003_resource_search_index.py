from django.db import migrations

from curation.catalog.search import SEARCH_INDEX_NAME, SEARCH_VECTOR_SQL


def create_search_index(apps, schema_editor):
    # Full-text search is PostgreSQL's; SQLite searches without an index (see selectors).
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX_NAME} ON curation_resource "
        f"USING gin ({SEARCH_VECTOR_SQL})"
    )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("curation", "0002_curators_group")]

    operations = [migrations.RunPython(create_search_index, drop_search_index)]
