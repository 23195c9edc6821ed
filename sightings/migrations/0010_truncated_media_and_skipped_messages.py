from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0009_media_format'),
    ]

    operations = [
        migrations.AddField(
            model_name='media',
            name='is_truncated',
            field=models.BooleanField(db_default=False, default=False, verbose_name='image data cut short'),
        ),
        migrations.AddField(
            model_name='skippedfile',
            name='message',
            field=models.TextField(blank=True, verbose_name='message'),
        ),
        migrations.AlterField(
            model_name='skippedfile',
            name='reason',
            field=models.CharField(choices=[('duplicate', 'duplicate of a file already uploaded'), ('retried', 'failed before, processed again'), ('not_an_image', 'not an image'), ('unsafe_path', 'unsafe path in archive'), ('archive_limit', 'archive limit reached'), ('too_large', 'file larger than allowed'), ('batch_limit', 'too many files in the batch'), ('broken_archive', 'broken archive')], max_length=20, verbose_name='reason'),
        ),
    ]
