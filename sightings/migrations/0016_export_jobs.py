import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0015_team_admin'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ExportJob',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('filters', models.TextField(blank=True, verbose_name='filters')),
                ('state', models.CharField(choices=[('queued', 'waiting for a worker'), ('building', 'writing the tables'), ('validating', 'validating the package'), ('ready', 'ready'), ('failed', 'failed')], default='queued', max_length=10, verbose_name='state')),
                ('total', models.PositiveIntegerField(default=0, verbose_name='sightings to export')),
                ('done', models.PositiveIntegerField(default=0, verbose_name='sightings written')),
                ('file', models.FileField(blank=True, max_length=255, upload_to='', verbose_name='file')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name='created at')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='finished at')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'export',
                'verbose_name_plural': 'exports',
                'ordering': ['-created_at'],
            },
        ),
    ]
