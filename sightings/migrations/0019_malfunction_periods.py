import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Malfunction periods of deployments (camtrapR's ProblemN_from / ProblemN_to), for the
    camera operation (effort.py)."""

    dependencies = [
        ("sightings", "0018_exchange"),
    ]

    operations = [
        migrations.CreateModel(
            name="MalfunctionPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("starts_on", models.DateField(verbose_name="from")),
                (
                    "ends_on",
                    models.DateField(help_text="The last day without records.", verbose_name="to"),
                ),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("battery", "battery"),
                            ("card_full", "memory card full"),
                            ("moved_or_stolen", "camera moved or stolen"),
                            ("view_blocked", "view blocked"),
                        ],
                        max_length=20,
                        verbose_name="reason",
                    ),
                ),
                (
                    "deployment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="malfunctions",
                        to="sightings.deployment",
                        verbose_name="deployment",
                    ),
                ),
            ],
            options={
                "verbose_name": "malfunction period",
                "verbose_name_plural": "malfunction periods",
                "ordering": ["deployment", "starts_on"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("ends_on__gte", models.F("starts_on"))),
                        name="malfunction_ends_after_start",
                    )
                ],
            },
        ),
    ]
