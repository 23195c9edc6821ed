
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0014_review'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='batchfolder',
            name='is_remembered',
            field=models.BooleanField(default=False, verbose_name="answered from the team's earlier answer"),
        ),
        migrations.CreateModel(
            name='FolderAnswer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=255, verbose_name='folder name')),
                ('key', models.CharField(editable=False, max_length=255)),
                ('answered_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='answered at')),
                ('answered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='answered by')),
                ('species', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='sightings.species', verbose_name='species')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='folder_answers', to='sightings.team', verbose_name='team')),
            ],
            options={
                'verbose_name': 'folder answer',
                'verbose_name_plural': 'folder answers',
                'ordering': ['team', 'key'],
                'constraints': [models.UniqueConstraint(fields=('team', 'key'), name='unique_folder_answer_per_team')],
            },
        ),
    ]
