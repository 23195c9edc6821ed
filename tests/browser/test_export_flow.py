from __future__ import annotations

import zipfile

import pytest

from sightings.models import Sighting, Species

from ..test_events import shoot
from .conftest import log_in


@pytest.mark.django_db(transaction=True)
def test_a_large_export_shows_its_progress_then_its_download(
    page, live_server, catalogue, alice, boris, cn_deployment, settings, celery_worker, tmp_path
):
    settings.CAMTRAP_DP_DIRECT_LIMIT = 0  # every set is built by the worker
    cat = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 00:40:20")
    Sighting.objects.filter(event=cat[0].event_id).update(
        species=Species.objects.get(name_en="Leopard cat"), review_status="approved"
    )
    log_in(page, live_server, "boris")
    page.goto(f"{live_server.url}/sightings/?country=CN")
    page.click("text=Download Camtrap DP")
    page.wait_for_url("**/exports/*/")
    # The page follows the worker and offers the package once it has validated.
    link = page.locator("a:has-text('Download Camtrap DP')")
    link.wait_for(timeout=120_000)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "package.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as package:
        assert package.read("observations.csv").decode().count("\n") == 2
