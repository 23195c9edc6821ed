# Individuals across the border (crossborder.py): the countries where each individual was
# recorded, the notices that tell teams of a new one, and the e-mail setting for them. The
# countries already recorded are filled in from approved sightings, without notices: only an
# approval from now on tells anyone.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def record_known_countries(apps, schema_editor):
    Sighting = apps.get_model("sightings", "Sighting")
    IndividualCountry = apps.get_model("sightings", "IndividualCountry")
    approved = Sighting.objects.filter(review_status="approved", individual__isnull=False)
    first = {}
    rows = approved.order_by("observed_at", "pk").values_list(
        "pk", "individual_id", "location__country", "local_date"
    )
    for pk, individual, country, local_date in rows.iterator():
        first.setdefault((individual, country), (pk, local_date))
    IndividualCountry.objects.bulk_create(
        IndividualCountry(individual_id=individual, country=country, sighting_id=pk,
                          observed_on=local_date)
        for (individual, country), (pk, local_date) in first.items()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0019_malfunction_periods'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='notificationsettings',
            name='cross_border',
            field=models.BooleanField(default=True, help_text='When an individual your team recorded or named is first recorded in another country.', verbose_name='individuals across the border'),
        ),
        migrations.CreateModel(
            name='IndividualCountry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('country', models.CharField(choices=[('CN', 'China'), ('RU', 'Russia'), ('MN', 'Mongolia'), ('KR', 'Republic of Korea'), ('JP', 'Japan'), ('KP', "Democratic People's Republic of Korea")], max_length=2, verbose_name='country')),
                ('observed_on', models.DateField(verbose_name='first recorded on')),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='recorded at')),
                ('individual', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='countries', to='sightings.individual', verbose_name='individual')),
                ('sighting', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='sightings.sighting', verbose_name='sighting')),
            ],
            options={
                'verbose_name': 'country of an individual',
                'verbose_name_plural': 'countries of individuals',
                'ordering': ['individual', 'recorded_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='CrossBorderNotice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('seen_at', models.DateTimeField(blank=True, null=True, verbose_name='seen at')),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now, null=True)),
                ('mailed_at', models.DateTimeField(blank=True, null=True, verbose_name='e-mailed at')),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='cross_border_notices', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                ('record', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notices', to='sightings.individualcountry', verbose_name='country')),
            ],
            options={
                'verbose_name': 'cross-border notice',
                'verbose_name_plural': 'cross-border notices',
                'ordering': ['-created_at', '-pk'],
            },
        ),
        migrations.AddConstraint(
            model_name='individualcountry',
            constraint=models.UniqueConstraint(fields=('individual', 'country'), name='unique_country_per_individual'),
        ),
        migrations.AddIndex(
            model_name='crossbordernotice',
            index=models.Index(condition=models.Q(('seen_at', None)), fields=['user'], name='notice_unseen'),
        ),
        migrations.AddIndex(
            model_name='crossbordernotice',
            index=models.Index(condition=models.Q(('mailed_at', None)), fields=['sent_at'], name='notice_unmailed'),
        ),
        migrations.AddConstraint(
            model_name='crossbordernotice',
            constraint=models.UniqueConstraint(fields=('record', 'user'), name='one_notice_per_person'),
        ),
        migrations.RunPython(record_known_countries, migrations.RunPython.noop),
    ]
