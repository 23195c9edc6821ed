"""Seed the regional species catalogue (0002_species_catalogue.csv, beside this file)."""

import csv
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).with_suffix(".csv")


def seed_species(apps, schema_editor):
    Species = apps.get_model("sightings", "Species")
    with CATALOGUE.open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            names = {"name_en": row["name_en"], "name_zh": row["name_zh"], "name_ru": row["name_ru"]}
            details = {
                **names,
                "rank": row["rank"],
                "iucn_status": row["iucn"],
                "is_sensitive": row["sensitive"] == "true",
            }
            if row["kind"] == "animal":
                Species.objects.update_or_create(
                    kind="animal", scientific_name=row["scientific_name"], defaults=details
                )
            else:
                Species.objects.update_or_create(kind=row["kind"], defaults=details)


class Migration(migrations.Migration):
    dependencies = [("sightings", "0001_initial")]

    operations = [migrations.RunPython(seed_species, migrations.RunPython.noop)]
