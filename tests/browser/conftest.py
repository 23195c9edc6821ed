from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files import File

from sightings import classification, ingest
from sightings.models import Individual, Membership, Sighting, Species

from ..conftest import CAMTRAPR, TESTDATA
from ..test_processing import process

CHROMIUM = "/usr/bin/chromium"
# A 1×1 PNG, served in place of every map tile: no network here, and a tile that loads
# shows that img-src allows the tile server.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API runs an event loop in this thread; the test's own database
    # calls (setting up data, checking state) are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            # Without these, chromium keeps calling home on a machine with no network.
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def watch(page) -> list[str]:
    """Every CSP violation the browser reports in the console, and every script error; map
    tiles are served as TILE."""
    problems: list[str] = []

    def console(message) -> None:
        if "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.route(
        "**/tile.openstreetmap.org/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=TILE),
    )
    return problems


@pytest.fixture
def exchange(catalogue, alice, boris, cn_deployment, ru_deployment) -> dict:
    """The exchange as a field team sees it, from real camera-trap images: a card of
    camtrapR's station B sorted into species folders (some named, one approved with an
    individual, one folder name to answer) and a Reconyx card of the Russian team's,
    approved; plus a reviewer on the Chinese team."""
    wei = get_user_model().objects.create_user("wei", password="password")
    Membership.objects.create(user=wei, team=cn_deployment.location.team, role="reviewer")
    ada = get_user_model().objects.create_user("ada", password="password")
    Membership.objects.create(user=ada, team=cn_deployment.location.team, role="admin")
    card = sorted((CAMTRAPR / "sample_images_species_dir" / "StationB").glob("*/*.JPG"))[:9]
    cn = [process(_add(cn_deployment, alice, path, f"StationB/{path.parent.name}"))
          for path in card]  # fmt: skip
    reconyx = sorted((TESTDATA / "camera-trap/camtrap-dp-example/media").glob("*.JPG"))[:3]
    ru = [process(_add(ru_deployment, boris, path, "")) for path in reconyx]
    cat = Species.objects.get(name_en="Leopard cat")
    individual = Individual.objects.create(
        species=cat, code="PB-CN-007", name="Xiaohua", team=cn_deployment.location.team
    )
    individual.reference_media.add(cn[0])
    named = Sighting.objects.get(event=cn[0].event_id)
    named = classification.classify(
        named, named.version, classification.Naming(cat, count=1, individual=individual), alice
    )
    classification.review(named, "approved", wei, named.version, "Clear stripes on the tail.")
    deer = Sighting.objects.get(event=ru[0].event_id)
    deer = classification.classify(
        deer, deer.version, classification.Naming(Species.objects.get(name_en="Sika deer")), boris
    )
    classification.review(deer, "approved", boris, deer.version)
    return {"cn": cn, "ru": ru, "named": named, "individual": individual, "wei": wei}


def _add(deployment, user, path: Path, folder: str):
    """An image from the repository's test data into a batch of its own card, as uploaded."""
    batch = deployment.batches.filter(uploaded_by=user).first() or deployment.batches.create(
        uploaded_by=user
    )
    data = path.read_bytes()
    return ingest.add_file(batch, File(io.BytesIO(data), name=path.name), name=path.name,
                           folder=folder, sha256=hashlib.sha256(data).hexdigest())  # fmt: skip
