"""Copy each event's placement onto its existing sightings, then require it."""

import zoneinfo

from django.db import migrations, models
import django.db.models.deletion


def place_sightings(apps, schema_editor):
    Event = apps.get_model("sightings", "Event")
    for event in Event.objects.select_related("deployment").iterator():
        local = event.start_at.astimezone(zoneinfo.ZoneInfo(event.deployment.time_zone or "UTC"))
        event.sightings.update(
            observed_at=event.start_at,
            location_id=event.deployment.location_id,
            local_date=local.date(),
            local_minute=local.hour * 60 + local.minute,
        )


class Migration(migrations.Migration):
    dependencies = [("sightings", "0004_browsing")]

    operations = [
        migrations.RunPython(place_sightings, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="sighting",
            name="observed_at",
            field=models.DateTimeField(verbose_name="observed at (UTC)"),
        ),
        migrations.AlterField(
            model_name="sighting",
            name="location",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sightings",
                to="sightings.location",
                verbose_name="location",
            ),
        ),
        migrations.AlterField(
            model_name="sighting",
            name="local_date",
            field=models.DateField(verbose_name="local date"),
        ),
        migrations.AlterField(
            model_name="sighting",
            name="local_minute",
            field=models.PositiveSmallIntegerField(verbose_name="local time of day (minutes)"),
        ),
    ]
