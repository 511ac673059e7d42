import django.db.models.functions.comparison
from django.db import migrations, models

INDEX = "org_geo_box_gist"


def create_index(apps, schema_editor):
    # PostgreSQL only: a GiST index on point(longitude, latitude) serves the radius search's bounding box
    # (organizations/nearby.py, ``point(…) <@ box(…)``) by reading only the entries inside the box. SQLite keeps
    # the BETWEEN prefilter on the (latitude, longitude) B-tree ``org_geo_box``.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON organizations_organization USING gist "
            "(point(longitude_float, latitude_float)) WHERE latitude_float IS NOT NULL"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("organizations", "0002_geo_cache_and_import_progress")]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="latitude_float",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast("latitude", models.FloatField()),
                output_field=models.FloatField(),
            ),
        ),
        migrations.AddField(
            model_name="organization",
            name="longitude_float",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast("longitude", models.FloatField()),
                output_field=models.FloatField(),
            ),
        ),
        migrations.RunPython(create_index, drop_index),
    ]
