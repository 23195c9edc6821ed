"""Malfunction periods (camtrapR's ProblemN_from / ProblemN_to): read from a camtrapR station
table by import_stations, edited on the deployment's page, and kept within the deployment."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from sightings.models import Deployment, MalfunctionPeriod, Membership

KL = dt.timezone(dt.timedelta(hours=8))  # Asia/Kuala_Lumpur, the sample cameras' clocks


def import_stations(path, team, *options: str) -> str:
    out = io.StringIO()
    call_command("import_stations", str(path), "--team", team.name, *options, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_the_station_table_sets_periods_at_noon_and_problems(camtrapr_sample):
    deployments = {
        d.location.name: d for d in Deployment.objects.filter(location__team=camtrapr_sample)
    }
    # camtraps.csv: StationA 02/04/2009 to 14/05/2009, noon of the camera clock (camtrapR
    # assumes noon when only dates are given).
    assert (deployments["StationA"].start_at, deployments["StationA"].end_at) == (
        dt.datetime(2009, 4, 2, 12, tzinfo=KL),
        dt.datetime(2009, 5, 14, 12, tzinfo=KL),
    )
    assert list(deployments["StationA"].malfunctions.all()) == []
    [problem] = deployments["StationC"].malfunctions.all()
    assert (problem.starts_on, problem.ends_on, problem.reason) == (
        dt.date(2009, 5, 12), dt.date(2009, 5, 17), "",
    )  # fmt: skip


def write(tmp_path, text: str):
    path = tmp_path / "stations.csv"
    path.write_text(text)
    return path


def test_a_table_replaces_problems_and_places_the_station(tmp_path, cn_deployment):
    team = cn_deployment.location.team
    MalfunctionPeriod.objects.create(
        deployment=cn_deployment, starts_on=dt.date(2009, 4, 3), ends_on=dt.date(2009, 4, 4)
    )
    table = (
        "Station,Setup_date,Retrieval_date,Problem1_from,Problem1_to,Problem2.from,Problem2.to,"
        "Latitude,Longitude\n"
        "HC-07,2009-04-02,2009-05-14,2009-04-10,2009-04-11,NA,NA,43.5,131.25\n"
    )
    out = import_stations(write(tmp_path, table), team)
    assert out == (
        f"HC-07: 2009-04-02 to 2009-05-14, 1 malfunction periods (deployment {cn_deployment.pk})\n"
    )
    cn_deployment.refresh_from_db()
    # Asia/Shanghai, UTC+8: noon is 04:00 UTC.
    assert cn_deployment.start_at == dt.datetime(2009, 4, 2, 4, tzinfo=dt.UTC)
    assert list(cn_deployment.malfunctions.values_list("starts_on", "ends_on")) == [
        (dt.date(2009, 4, 10), dt.date(2009, 4, 11))
    ]
    cn_deployment.location.refresh_from_db()
    assert (cn_deployment.location.latitude, cn_deployment.location.longitude) == (43.5, 131.25)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("HC-99,02/04/2009,14/05/2009,,", "HC-99: Hunchun has no location of that name"),
        ("HC-07,02/04/2009,14/05/2009,10/05/2009,15/05/2009", "Problem ends after retrieval"),
        ("HC-07,02/04/2009,14/05/2009,01/04/2009,03/04/2009", "Problem begins before Setup"),
        ("HC-07,02/04/2009,14/05/2009,10/05/2009,", "Problem1 needs both from and to"),
        ("HC-07,14/05/2009,02/04/2009,,", "retrieval is not after setup"),
        ("HC-07,2009-04-02,14/05/2009,,", "'2009-04-02': give the year with four digits"),
    ],
)
def test_a_bad_row_changes_nothing(tmp_path, cn_deployment, row, reason):
    team = cn_deployment.location.team
    header = "Station,Setup_date,Retrieval_date,Problem1_from,Problem1_to\n"
    table = write(tmp_path, f"{header}HC-07,02/04/2009,14/05/2009,,\n{row}\n")
    with pytest.raises(CommandError, match=reason):
        import_stations(table, team, "--date-format", "dmy")
    cn_deployment.refresh_from_db()
    assert cn_deployment.start_at == dt.datetime(2009, 4, 1, tzinfo=dt.UTC)
    assert not MalfunctionPeriod.objects.exists()


def test_times_are_refused_as_problems_are_whole_days(tmp_path, cn_deployment):
    table = "Station,Setup_date,Retrieval_date\nHC-07,02/04/2009 12,14/05/2009 15\n"
    table = write(tmp_path, table)
    with pytest.raises(CommandError, match="Only dates are read"):
        import_stations(table, cn_deployment.location.team, "--date-format", "dmy H")


# The deployment's page


@pytest.fixture
def cn_admin(cn_team, django_user_model):
    user = django_user_model.objects.create_user("cn-admin")
    Membership.objects.create(user=user, team=cn_team, role=Membership.Role.ADMIN)
    return user


def page_data(deployment: Deployment, *periods: tuple[str, str, str], **deployment_fields) -> dict:
    data = {
        "location": deployment.location_id, "start_at": "2009-04-01T00:00",
        "end_at": "2009-06-01T00:00", "time_zone": "Asia/Shanghai",
        "clock_correction_seconds": "0", "event_gap_seconds": "60",
        "malfunctions-TOTAL_FORMS": str(len(periods)), "malfunctions-INITIAL_FORMS": "0",
        **deployment_fields,
    }  # fmt: skip
    for number, (start, end, reason) in enumerate(periods):
        data |= {
            f"malfunctions-{number}-starts_on": start,
            f"malfunctions-{number}-ends_on": end,
            f"malfunctions-{number}-reason": reason,
        }
    return data


def test_a_team_admin_adds_malfunctions_on_the_deployment_page(client, cn_deployment, cn_admin):
    client.force_login(cn_admin)
    page = client.get(f"/deployments/{cn_deployment.pk}/edit/").content.decode()
    assert "Malfunction periods" in page and 'name="malfunctions-0-starts_on"' in page
    data = page_data(cn_deployment, ("2009-05-01", "2009-05-03", "card_full"))
    response = client.post(f"/deployments/{cn_deployment.pk}/edit/", data)
    assert response.status_code == 302
    [period] = cn_deployment.malfunctions.all()
    assert (period.starts_on, period.ends_on, period.get_reason_display()) == (
        dt.date(2009, 5, 1), dt.date(2009, 5, 3), "memory card full",
    )  # fmt: skip
    page = client.get(f"/deployments/{cn_deployment.pk}/edit/").content.decode()
    assert 'value="2009-05-01"' in page


@pytest.mark.parametrize(
    ("periods", "fields", "error"),
    [
        ([("2009-05-03", "2009-05-01", "")], {}, "The last day comes before the first."),
        ([("2009-03-30", "2009-04-02", "")], {}, "This is before the deployment started."),
        # The new period in the same post is the one checked: it now ends on 20 May.
        ([("2009-05-19", "2009-05-25", "")], {"end_at": "2009-05-20T00:00"},
         "This is after the deployment ended."),
        ([("2009-05-01", "2009-05-03", ""), ("2009-05-03", "2009-05-04", "battery")], {},
         "Two malfunction periods share 2009-05-03: a day is counted once."),
    ],
)  # fmt: skip
def test_malfunctions_stay_within_the_deployment(
    client, cn_deployment, cn_admin, periods, fields, error
):
    client.force_login(cn_admin)
    response = client.post(
        f"/deployments/{cn_deployment.pk}/edit/", page_data(cn_deployment, *periods, **fields)
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not MalfunctionPeriod.objects.exists()
    cn_deployment.refresh_from_db()
    assert cn_deployment.end_at == dt.datetime(2009, 6, 1, tzinfo=dt.UTC)


def test_an_uploader_may_not_edit_malfunctions(client, cn_deployment, alice):
    client.force_login(alice)
    data = page_data(cn_deployment, ("2009-05-01", "2009-05-03", "battery"))
    assert client.post(f"/deployments/{cn_deployment.pk}/edit/", data).status_code == 403
    assert client.get(f"/deployments/{cn_deployment.pk}/edit/").status_code == 403
    assert not MalfunctionPeriod.objects.exists()


def test_a_period_is_removed_from_the_page(client, cn_deployment, cn_admin):
    period = MalfunctionPeriod.objects.create(
        deployment=cn_deployment, starts_on=dt.date(2009, 5, 1), ends_on=dt.date(2009, 5, 2)
    )
    client.force_login(cn_admin)
    data = page_data(cn_deployment, ("2009-05-01", "2009-05-02", ""))
    data |= {"malfunctions-INITIAL_FORMS": "1", "malfunctions-0-id": str(period.pk)}
    data |= {"malfunctions-0-DELETE": "on"}
    assert client.post(f"/deployments/{cn_deployment.pk}/edit/", data).status_code == 302
    assert not MalfunctionPeriod.objects.exists()


def test_the_admin_refuses_overlapping_periods(client, site_admin, cn_deployment):
    MalfunctionPeriod.objects.create(
        deployment=cn_deployment, starts_on=dt.date(2009, 5, 1), ends_on=dt.date(2009, 5, 4)
    )
    client.force_login(site_admin)
    data = {"deployment": cn_deployment.pk, "starts_on": "2009-05-04", "ends_on": "2009-05-05"}
    response = client.post("/admin/sightings/malfunctionperiod/add/", data)
    assert "Another malfunction period of the deployment covers some of these days." in (
        response.content.decode()
    )
    assert MalfunctionPeriod.objects.count() == 1
