from django.db import migrations, models


class Migration(migrations.Migration):
    """Where imported rows came from (camtrapdp_import.py): the package's own ids, so that
    importing a package again creates nothing twice, and media known only by their URL."""

    dependencies = [("sightings", "0016_export_jobs")]

    source_id = models.CharField(
        "id in the imported package", max_length=255, blank=True, db_index=True
    )

    operations = [
        migrations.AddField("deployment", "source_id", source_id.clone()),
        migrations.AddField("event", "source_id", source_id.clone()),
        migrations.AddField("media", "source_id", source_id.clone()),
        migrations.AddField("sighting", "source_id", source_id.clone()),
        migrations.AddField(
            "media",
            "source_url",
            models.URLField("URL of the imported image", max_length=1024, blank=True),
        ),
        migrations.AlterField(
            "media",
            "sha256",
            models.CharField("SHA-256", max_length=64, unique=True, null=True, blank=True),
        ),
    ]
