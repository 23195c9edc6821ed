"""The image viewer (zoom, adjustments, playing) and the annotation page at 1024x768."""

from __future__ import annotations

import io
import re

import exifread
import pytest
from django.core.files.storage import default_storage

from sightings import classification, shareable
from sightings.models import Membership, Sighting, Species

from ..conftest import TESTDATA
from ..test_events import shoot
from ..test_processing import add, process
from .conftest import log_in

# One event of three images (20 s apart), then a second event an hour later.
TIMES = ["2009:04:21 00:40:00", "2009:04:21 00:40:20", "2009:04:21 00:40:40", "2009:04:21 01:40:00"]


@pytest.fixture
def tablet(browser):
    """A page the size of a 1024x768 screen."""
    context = browser.new_context(locale="en-US", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def two_events(catalogue, alice, cn_deployment) -> list:
    return shoot(cn_deployment, alice, *TIMES)


def originals(page) -> list[str]:
    """The originals the page asks for, as they are asked for."""
    asked: list[str] = []
    page.on("request", lambda request: "/original/" in request.url and asked.append(request.url))
    return asked


def image_shown(page) -> None:
    page.wait_for_function(
        "() => { const i = document.getElementById('viewer-image');"
        " return i.complete && i.naturalWidth > 0; }"
    )


def filter_of(page) -> str:
    return page.eval_on_selector("#viewer-image", "image => image.style.filter")


@pytest.mark.django_db(transaction=True)
def test_zoom_loads_the_original_only_when_asked(tablet, live_server, two_events):
    page = tablet
    asked = originals(page)
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/events/{two_events[0].event_id}/")
    image_shown(page)
    page.keyboard.press(".")  # stepping shows previews only
    assert page.get_attribute("#viewer-image", "src") == f"/media/{two_events[1].pk}/preview/"
    image_shown(page)
    assert asked == []

    with page.expect_request(f"**/media/{two_events[1].pk}/original/"):
        page.keyboard.press("+")
    page.wait_for_selector("#viewer-status:text-is('Full resolution')")
    assert page.get_attribute("#viewer-image", "src") == f"/media/{two_events[1].pk}/original/"
    assert page.text_content("#viewer-zoom") == "150%"
    assert asked == [f"{live_server.url}/media/{two_events[1].pk}/original/"]

    page.keyboard.press("0")  # fit again: back to the preview when stepping
    page.keyboard.press(".")
    assert page.get_attribute("#viewer-image", "src") == f"/media/{two_events[2].pk}/preview/"
    image_shown(page)
    assert len(asked) == 1


@pytest.mark.django_db(transaction=True)
def test_wheel_and_double_click_zoom_at_the_point(tablet, live_server, two_events):
    page = tablet
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/events/{two_events[0].event_id}/")
    image_shown(page)
    box = page.locator("#viewer-frame").bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#viewer-status:text-is('Full resolution')")
    width, height = page.eval_on_selector("#viewer-frame", "f => [f.clientWidth, f.clientHeight]")
    # Doubled at the centre: the point under the pointer stays where it was.
    moved = re.fullmatch(
        r"translate\((.+)px, (.+)px\) scale\(2\)",
        page.eval_on_selector("#viewer-image", "i => i.style.transform"),
    )
    assert (float(moved[1]), float(moved[2])) == pytest.approx((-width / 2, -height / 2), abs=1)
    page.mouse.move(box["x"] + 10, box["y"] + 10)
    page.mouse.wheel(0, 2000)  # all the way out
    page.wait_for_function("() => document.getElementById('viewer-zoom').textContent === '100%'")


@pytest.mark.django_db(transaction=True)
def test_adjustments_stay_set_through_images_and_events(tablet, live_server, two_events):
    page = tablet
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/events/{two_events[0].event_id}/")
    assert filter_of(page) == ""
    page.keyboard.press("i")  # night boost
    boosted = 'url("#viewer-gamma-filter") brightness(1.2) contrast(1.3)'
    assert filter_of(page) == boosted
    assert page.get_attribute("#viewer-night", "aria-pressed") == "true"
    exponent = page.get_attribute("#viewer-gamma-filter feFuncG", "exponent")
    assert float(exponent) == pytest.approx(1 / 2.2)

    page.keyboard.press(".")
    assert page.get_attribute("#viewer-image", "src") == f"/media/{two_events[1].pk}/preview/"
    assert filter_of(page) == boosted
    page.keyboard.press("]")  # brighter
    page.keyboard.press("{")  # less contrast
    tuned = 'url("#viewer-gamma-filter") brightness(1.3) contrast(1.2)'
    assert filter_of(page) == tuned
    assert page.get_attribute("#viewer-night", "aria-pressed") == "false"

    page.keyboard.press("n")  # the next event: a new page, the same session
    page.wait_for_url(f"**/events/{two_events[3].event_id}/")
    assert filter_of(page) == tuned
    assert page.input_value("#viewer-brightness") == "1.3"
    page.keyboard.press("o")  # reset
    assert filter_of(page) == ""
    page.reload()
    assert filter_of(page) == ""


@pytest.mark.django_db(transaction=True)
def test_the_event_plays_as_a_loop(tablet, live_server, two_events):
    page = tablet
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/events/{two_events[0].event_id}/")
    page.keyboard.press(">")  # faster: 4 images a second
    page.keyboard.press(">")  # 8
    assert page.input_value("#viewer-speed") == "8"
    page.keyboard.press("Space")
    assert page.text_content("#viewer-play").strip() == "Pause"
    for position in ["2 / 3", "3 / 3", "1 / 3", "2 / 3"]:
        page.wait_for_selector(f"#viewer-position:text-is('{position}')")
    page.keyboard.press("Space")
    assert page.get_attribute("#viewer-play", "aria-pressed") == "false"
    stopped = page.text_content("#viewer-position")
    page.wait_for_timeout(500)  # four images' time at this speed
    assert page.text_content("#viewer-position") == stopped
    index = int(stopped.split(" / ")[0]) - 1
    assert page.get_attribute("#viewer-image", "src") == f"/media/{two_events[index].pk}/preview/"


@pytest.mark.django_db(transaction=True)
def test_viewer_keys_pan_zoom_and_help_but_not_while_typing(tablet, live_server, two_events):
    page = tablet
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/events/{two_events[0].event_id}/")
    image_shown(page)
    assert not page.is_visible("#viewer-keys dl")
    page.keyboard.press("?")
    assert page.is_visible("#viewer-keys dl")
    assert "brighter, darker" in page.text_content("#viewer-keys")

    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.text_content("#viewer-zoom") == "225%"
    transform = page.eval_on_selector("#viewer-image", "i => i.style.transform")
    page.keyboard.press("ArrowRight")  # zoomed: the arrow moves the image, not to the next event
    assert page.eval_on_selector("#viewer-image", "i => i.style.transform") != transform
    page.keyboard.press("-")
    page.keyboard.press("0")
    assert page.text_content("#viewer-zoom") == "100%"

    page.keyboard.press("s")  # in the species field, the keys are text
    page.keyboard.type("+]i. ")
    assert page.input_value(".naming-form.primary .species-input") == "+]i. "
    assert (page.text_content("#viewer-zoom"), filter_of(page)) == ("100%", "")
    assert page.text_content("#viewer-position") == "1 / 3"
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowRight")  # not zoomed: on to the next event
    page.wait_for_url(f"**/events/{two_events[3].event_id}/")


@pytest.mark.django_db(transaction=True)
def test_the_naming_form_is_in_view_at_1024x768(tablet, live_server, two_events):
    page = tablet
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/events/{two_events[0].event_id}/")
    image_shown(page)
    for selector in [
        ".naming-form.primary .species-input",
        ".naming-form.primary button[value=next]",
        "#enter-says",
    ]:
        box = page.locator(selector).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1024, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= 768, selector
    image = page.locator("#viewer-frame").bounding_box()
    form = page.locator(".naming-form.primary").bounding_box()
    assert form["x"] >= image["x"] + image["width"]  # beside the image, not under it
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024


@pytest.mark.django_db(transaction=True)
def test_enter_goes_to_the_next_event_not_named_yet(
    tablet, live_server, catalogue, alice, cn_deployment
):
    media = shoot(cn_deployment, alice, "2009:04:21 00:40:00", "2009:04:21 01:40:00",
                  "2009:04:21 02:40:00", "2009:04:21 03:40:00")  # fmt: skip
    boar = Species.objects.get(name_en="Wild boar")
    Sighting.objects.filter(event__in=[media[1].event_id, media[2].event_id]).update(species=boar)
    page = tablet
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/deployments/{cn_deployment.pk}/annotate/")
    page.wait_for_url(f"**/events/{media[0].event_id}/")
    assert "events already named are skipped" in page.text_content("#enter-says")
    assert page.get_attribute("#next", "href") == f"/events/{media[3].event_id}/"
    page.keyboard.press("s")
    page.keyboard.type("Amur tiger")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/events/{media[3].event_id}/")  # the two named ones skipped
    assert "Event 4 of 4" in page.text_content("h1")
    assert Sighting.objects.get(event=media[0].event_id).species.name_en == "Amur tiger"


def _approve(sighting: Sighting, species: str, user) -> None:
    sighting = Sighting.objects.select_related("event__deployment", "species", "individual").get(
        pk=sighting.pk
    )
    naming = classification.Naming(Species.objects.get(name_en=species))
    classification.classify(sighting, sighting.version, naming, user)
    Sighting.objects.filter(pk=sighting.pk).update(review_status="approved")


@pytest.mark.django_db(transaction=True)
def test_zoom_gives_other_teams_the_shareable_copy_of_a_protected_station(
    tablet, live_server, catalogue, alice, boris, ru_team, ru_deployment
):
    Membership.objects.create(user=boris, team=ru_team, role=Membership.Role.UPLOADER)
    [tiger] = shoot(ru_deployment, boris, "2021:04:11 20:43:09")
    deer = process(add(ru_deployment, boris, TESTDATA / "exif-samples/jpg/gps/DSCN0010.jpg"))
    _approve(Sighting.objects.get(event=tiger.event_id), "Amur tiger", boris)  # protects KP-12
    _approve(Sighting.objects.get(event=deer.event_id), "Sika deer", boris)
    page = tablet
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    log_in(page, live_server, "alice")
    page.goto(f"{live_server.url}/sightings/{Sighting.objects.get(event=deer.event_id).pk}/")
    image_shown(page)
    assert page.get_attribute("#strip .frame", "data-original") == f"/media/{deer.pk}/original/"

    with page.expect_response(f"**/media/{deer.pk}/original/") as response:
        page.keyboard.press("+")
    served = response.value.body()
    page.wait_for_selector("#viewer-status:text-is('Full resolution')")
    name, content_type = shareable.copy_for_others(deer)
    with default_storage.open(name) as copy:
        assert (response.value.headers["content-type"], served) == (content_type, copy.read())
    assert exifread.process_file(io.BytesIO(served), details=False) == {}
    # Every image came through the access-checked view, none from the storage's own path.
    media_files = [url for url in asked if "/media/" in url]
    assert media_files and all(
        url.startswith(f"{live_server.url}/media/{deer.pk}/") for url in media_files
    )
