from __future__ import annotations

import datetime as dt

from sightings.events import correct_capture_times
from sightings.models import Deployment, Location, Media

CAMERA_TIME = dt.datetime(2021, 4, 11, 20, 43, 9)


def deployment(time_zone: str = "", correction: int = 0) -> Deployment:
    return Deployment(
        location=Location(name="KP-12", latitude=43.1, longitude=131.5, country="RU"),
        start_at=dt.datetime(2021, 4, 1, tzinfo=dt.UTC),
        end_at=dt.datetime(2021, 5, 1, tzinfo=dt.UTC),
        time_zone=time_zone,
        clock_correction_seconds=correction,
    )


def test_it_converts_camera_time_with_the_deployments_zone():
    # Vladivostok is UTC+10 all year.
    utc = deployment("Asia/Vladivostok").to_utc(CAMERA_TIME)
    assert utc == dt.datetime(2021, 4, 11, 10, 43, 9, tzinfo=dt.UTC)


def test_it_adds_the_clock_correction():
    # The camera clock ran 95 s slow: the true instant is 95 s later than it says.
    utc = deployment("Asia/Shanghai", correction=95).to_utc(CAMERA_TIME)
    assert utc == dt.datetime(2021, 4, 11, 12, 44, 44, tzinfo=dt.UTC)


def test_the_deployments_zone_wins_over_the_files_offset():
    utc = deployment("Asia/Shanghai").to_utc(CAMERA_TIME, "+03:00")
    assert utc == dt.datetime(2021, 4, 11, 12, 43, 9, tzinfo=dt.UTC)


def test_it_uses_the_files_offset_when_the_deployment_has_no_zone():
    utc = deployment(correction=-9).to_utc(CAMERA_TIME, "+09:00")
    assert utc == dt.datetime(2021, 4, 11, 11, 43, 0, tzinfo=dt.UTC)


def test_it_leaves_utc_unknown_without_zone_or_offset():
    assert deployment().to_utc(CAMERA_TIME) is None


def test_it_honours_daylight_saving_time():
    # Europe/Brussels (the Camtrap DP example) is UTC+1 in winter, UTC+2 in summer.
    winter = deployment("Europe/Brussels").to_utc(dt.datetime(2021, 1, 15, 12, 0))
    summer = deployment("Europe/Brussels").to_utc(dt.datetime(2021, 7, 15, 12, 0))
    assert (winter.hour, summer.hour) == (11, 10)


def test_it_keeps_sub_seconds():
    utc = deployment("Asia/Shanghai").to_utc(dt.datetime(2021, 4, 11, 20, 43, 9, 120000))
    assert utc.microsecond == 120000


def test_it_flags_times_outside_the_deployment_period_without_dropping_them():
    media = Media(deployment=deployment("Asia/Shanghai"), camera_time="2021-05-01T08:00:01")
    media.derive_capture_instant()
    assert media.captured_at == dt.datetime(2021, 5, 1, 0, 0, 1, tzinfo=dt.UTC)
    assert media.is_outside_deployment is True


def test_the_last_second_of_the_period_is_inside():
    media = Media(deployment=deployment("Asia/Shanghai"), camera_time="2021-05-01T08:00:00")
    media.derive_capture_instant()
    assert media.is_outside_deployment is False


def test_changing_the_zone_corrects_the_media_already_processed(cn_deployment, alice):
    batch = cn_deployment.batches.create(uploaded_by=alice)
    media = Media.objects.create(
        batch=batch, deployment=cn_deployment, sha256="a" * 64, file="x.jpg", file_size=1,
        original_name="x.jpg", state="processed", camera_time="2009-04-21T00:40:00",
    )  # fmt: skip
    cn_deployment.time_zone = "Asia/Vladivostok"
    assert len(correct_capture_times(cn_deployment, cn_deployment.media.all())) == 1
    media.refresh_from_db()
    # Vladivostok kept summer time until 2011: in April 2009 it was UTC+11, not today's +10.
    assert media.captured_at == dt.datetime(2009, 4, 20, 13, 40, tzinfo=dt.UTC)
