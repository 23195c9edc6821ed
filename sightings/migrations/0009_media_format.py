from django.core.files.storage import default_storage
from django.db import migrations, models

from sightings.ingest import SNIFF_BYTES, sniff_format


def sniff_stored_files(apps, schema_editor):
    """Type the originals uploaded so far by their first bytes."""
    Media = apps.get_model("sightings", "Media")
    for media in Media.objects.filter(format="").only("pk", "file").iterator():
        try:
            with default_storage.open(media.file.name, "rb") as file:
                media.format = sniff_format(file.read(SNIFF_BYTES))
        except OSError:  # missing from storage: served as a download, if ever
            continue
        media.save(update_fields=["format"])


class Migration(migrations.Migration):

    dependencies = [
        ('sightings', '0008_pending_grouping'),
    ]

    operations = [
        migrations.AddField(
            model_name='media',
            name='format',
            field=models.CharField(blank=True, choices=[('jpeg', 'JPEG'), ('png', 'PNG'), ('tiff', 'TIFF'), ('heif', 'HEIF'), ('webp', 'WebP')], max_length=4, verbose_name='format'),
        ),
        migrations.AlterField(
            model_name='skippedfile',
            name='reason',
            field=models.CharField(choices=[('duplicate', 'duplicate of a file already uploaded'), ('not_an_image', 'not an image'), ('unsafe_path', 'unsafe path in archive'), ('archive_limit', 'archive limit reached'), ('too_large', 'file larger than allowed'), ('batch_limit', 'too many files in the batch'), ('broken_archive', 'broken archive')], max_length=20, verbose_name='reason'),
        ),
        migrations.RunPython(sniff_stored_files, migrations.RunPython.noop),
    ]
