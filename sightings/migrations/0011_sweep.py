
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0010_truncated_media_and_skipped_messages'),
    ]

    operations = [
        migrations.CreateModel(
            name='WorkerHeartbeat',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hostname', models.CharField(max_length=255, unique=True)),
                ('seen_at', models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name='media',
            name='sent_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='sent for processing at'),
        ),
        migrations.AddField(
            model_name='media',
            name='started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='processing started at'),
        ),
        migrations.AddField(
            model_name='pendinggrouping',
            name='everything',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='pendinggrouping',
            name='sent_at',
            field=models.DateTimeField(default=django.utils.timezone.now, null=True),
        ),
        migrations.AddField(
            model_name='pendingindependence',
            name='sent_at',
            field=models.DateTimeField(default=django.utils.timezone.now, null=True),
        ),
        migrations.AlterField(
            model_name='pendinggrouping',
            name='deployment',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='sightings.deployment'),
        ),
        migrations.AddIndex(
            model_name='media',
            index=models.Index(condition=models.Q(('state', 'queued')), fields=['sent_at'], name='media_queued'),
        ),
        migrations.AddIndex(
            model_name='media',
            index=models.Index(fields=['started_at'], name='media_started'),
        ),
        migrations.AddIndex(
            model_name='media',
            index=models.Index(condition=models.Q(('state', 'processing')), fields=['started_at'], name='media_processing'),
        ),
        migrations.AddConstraint(
            model_name='pendinggrouping',
            constraint=models.UniqueConstraint(fields=('deployment', 'everything'), name='unique_pending_grouping'),
        ),
    ]
