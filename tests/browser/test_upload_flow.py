from __future__ import annotations

import pytest

from ..conftest import CAMTRAPR, TESTDATA
from .conftest import log_in

STATION_C = CAMTRAPR / "sample_images_species_dir" / "StationC" / "TRA"
TRUNCATED = TESTDATA / "camera-trap/speciesnet/test_data/african_elephants_truncated_file.jpg"


@pytest.mark.django_db(transaction=True)
def test_an_uploader_sends_a_card_and_sees_it_processed(
    page, live_server, alice, cn_deployment, celery_worker, tmp_path
):
    images = sorted(STATION_C.glob("*.JPG"))[:5]
    fake = tmp_path / "fake.JPG"
    fake.write_bytes(b"\xff\xd8\xff\xe0battery 87%, 3 triggers\n")  # stored, then fails
    log_in(page, live_server, "alice")
    page.click(f"a[href='/deployments/{cn_deployment.pk}/upload/']")
    page.set_input_files("input[name=files]", [*images, TRUNCATED, fake])
    page.click("#upload-button")
    page.wait_for_url(f"{live_server.url}/batches/*/")
    # The counts refresh without reloading the page until every file is done.
    page.wait_for_selector("#processing-status:has-text('All files are done.')", timeout=90_000)
    # The image cut short is processed from what was saved, and counted.
    assert page.text_content("#count-processed") == "6"
    assert page.text_content("#count-truncated") == "1"
    assert page.text_content("#count-failed") == "1"
    failed = page.text_content("#failed-rows")
    assert "fake.JPG" in failed
    assert "The file is not an image that can be read." in failed
    assert "Truncated File Read" not in failed  # the technical detail is for site admins


@pytest.mark.django_db(transaction=True)
def test_a_processed_image_shows_its_metadata(
    page, live_server, alice, cn_deployment, celery_worker
):
    image = (
        CAMTRAPR / "sample_images_species_dir/StationC/PBE/StationC__2009-04-06__03-00-00(1).JPG"
    )
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/deployments/{cn_deployment.pk}/upload/")
    page.set_input_files("input[name=files]", [image])
    page.click("#upload-button")
    page.wait_for_selector("#processing-status:has-text('All files are done.')", timeout=90_000)
    page.goto(f"{live_server.url}/deployments/{cn_deployment.pk}/")
    page.click(f"text={image.name}")
    preview = page.locator("figure.preview img")
    page.wait_for_function("img => img.complete", arg=preview.element_handle())
    assert preview.evaluate("img => img.naturalWidth") == 100
    body = page.text_content("main")
    assert "2009-04-06T03:00:00" in body  # camera time
    assert "2009-04-05 19:00:00" in body  # UTC, from Asia/Shanghai (UTC+8)
    assert "CUDDEBACK" in body
