from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "candidate_search_trgm"


def create_index(apps, schema_editor):
    # PostgreSQL only: a trigram GIN index makes substring search (icontains) on search_text indexed.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON candidates_candidate USING gin (UPPER(search_text) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("candidates", "0001_initial")]

    operations = [TrigramExtension(), migrations.RunPython(create_index, drop_index)]
