# Review: a team's second opinion for sensitive species, e-mail digest settings, and the
# sighting history made append-only (it outlives its sighting; PostgreSQL refuses UPDATE and
# DELETE on it with a trigger; TRUNCATE, which test teardown uses, fires no row trigger).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


# One statement per execute(): psycopg refuses several in one call with parameters.
APPEND_ONLY = [
    """
CREATE FUNCTION sightings_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Sighting history is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
""",
    """
CREATE TRIGGER sightings_sightingchange_append_only
    BEFORE UPDATE OR DELETE ON sightings_sightingchange
    FOR EACH ROW EXECUTE FUNCTION sightings_history_append_only()
""",
]
NOT_APPEND_ONLY = [
    "DROP TRIGGER sightings_sightingchange_append_only ON sightings_sightingchange",
    "DROP FUNCTION sightings_history_append_only()",
]


def refuse_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in APPEND_ONLY:
            schema_editor.execute(statement, None)  # None: "%" is not a placeholder


def allow_changes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in NOT_APPEND_ONLY:
            schema_editor.execute(statement, None)  # None: "%" is not a placeholder


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0013_sharing_rules'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='team',
            name='second_opinion',
            field=models.BooleanField(default=False, help_text='A sighting of a sensitive species needs approval by a reviewer other than the person who named it.', verbose_name='second opinion for sensitive species'),
        ),
        migrations.AlterField(
            model_name='sightingchange',
            name='changed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='changed by'),
        ),
        migrations.AlterField(
            model_name='sightingchange',
            name='sighting',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='changes', to='sightings.sighting', verbose_name='sighting'),
        ),
        migrations.CreateModel(
            name='NotificationSettings',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('review_digest', models.BooleanField(default=True, help_text='At most once a day: how many sightings wait for your review and how many came back to you.', verbose_name='daily review e-mail')),
                ('digest_sent_at', models.DateTimeField(blank=True, null=True, verbose_name='last digest sent at')),
                ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='notification_settings', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'notification settings',
                'verbose_name_plural': 'notification settings',
            },
        ),
        migrations.RunPython(refuse_changes, allow_changes),
    ]
