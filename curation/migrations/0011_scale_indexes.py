"""Scale (issue 21): a stored search vector, the dispatcher's keyset index, a
case-insensitive language index, room in each page for HOT lease updates.

PostgreSQL only except the keyset index (SQLite searches and filters without the others);
the keyset index is an ordinary index on both. No data changes: the generated column is filled
by the database itself (a table rewrite: on a large catalogue, run it in a quiet hour).
"""

from django.db import migrations, models

from curation.catalog.search import (
    SEARCH_COLUMN,
    SEARCH_INDEX_NAME,
    SEARCH_VECTOR_SQL,
)

LANGUAGE_INDEX = "resource_language_upper"
FILLFACTOR = 85


def stored_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # Room in each page for a new row version: the dispatcher's lease (an unindexed column)
    # is then a HOT update, which touches no index. Set first, so the rewrite below applies it.
    schema_editor.execute(f"ALTER TABLE curation_resource SET (fillfactor = {FILLFACTOR})")
    schema_editor.execute(
        f"ALTER TABLE curation_resource ADD COLUMN IF NOT EXISTS {SEARCH_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({SEARCH_VECTOR_SQL}) STORED"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX_NAME}")
    schema_editor.execute(
        f"CREATE INDEX {SEARCH_INDEX_NAME} ON curation_resource USING gin ({SEARCH_COLUMN})"
    )
    # The language filter compares UPPER(language) with = and LIKE 'EN-%' (Django's iexact
    # and istartswith); text_pattern_ops serves both whatever the database's collation.
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {LANGUAGE_INDEX} ON curation_resource "
        '(UPPER("language"::text) text_pattern_ops)'
    )


def expression_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE curation_resource RESET (fillfactor)")
    schema_editor.execute(f"DROP INDEX IF EXISTS {LANGUAGE_INDEX}")
    schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX_NAME}")
    schema_editor.execute(f"ALTER TABLE curation_resource DROP COLUMN IF EXISTS {SEARCH_COLUMN}")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX_NAME} ON curation_resource "
        f"USING gin ({SEARCH_VECTOR_SQL})"
    )


class Migration(migrations.Migration):
    dependencies = [("curation", "0010_second_wave_models")]

    operations = [
        migrations.RunPython(stored_search_vector, expression_search_index),
        # The dispatcher walks due rows in (next_check_at, id) order with a keyset cursor;
        # this index replaces the one on next_check_at alone, its prefix.
        migrations.AddIndex(
            model_name="resource",
            index=models.Index(fields=["next_check_at", "id"], name="resource_due_order"),
        ),
        migrations.RemoveIndex(model_name="resource", name="resource_next_check"),
    ]
