#!/usr/bin/env python
"""Analysis benchmark: camera operation, a detection history and the survey report over
1,000 stations, two years and a million sightings, from PostgreSQL.

    DATABASE_URL=postgres://... python bench/analysis.py      (BENCH_SIGHTINGS=1000000)

Generates (in SQL, in a database of its own) two teams (CN, RU) with 500 stations each, a
deployment per station over 2023-2024 (noon to noon, as a station table gives them), a
second camera at every tenth station, a 10-day malfunction period on every third
deployment, and BENCH_SIGHTINGS events with one sighting each at random times (species
weighted as camera traps see them, 90 % approved, 40 % independent). Then runs the three
commands as an analyst of the Chinese team (their own sightings and the Russian team's
approved ones): camera_operation, detection_history for wild boar (weekly occasions, day1
survey, with effort) and survey_report with its per-station table. Prints the seconds of
each and the process's peak memory (maxrss) before and after. Target: each under 5 s.
"""

from __future__ import annotations

import os
import resource
import time

import environment

SIGHTINGS = int(os.getenv("BENCH_SIGHTINGS", "1000000"))
STATIONS = 1_000
# Relative frequency by English name; the rest of the catalogue's animals share weight 1.
WEIGHTS = {
    "Wild boar": 14, "Siberian roe deer": 12, "Sika deer": 10, "Red deer (wapiti)": 5,
    "Raccoon dog": 4, "Asian badger": 4, "Leopard cat": 4, "Human": 3, "Asian black bear": 2,
    "Amur tiger": 1, "Amur leopard": 1,
}  # fmt: skip
ZONE = "CASE WHEN l.country = 'RU' THEN 'Asia/Vladivostok' ELSE 'Asia/Shanghai' END"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate() -> None:
    """A few INSERT ... SELECT statements: seconds, not an hour of ORM."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from sightings.models import Membership, Species, Team

    teams = [Team.objects.create(name="CN team", country="CN"),
             Team.objects.create(name="RU team", country="RU")]  # fmt: skip
    analyst = get_user_model().objects.create_user("analyst")
    Membership.objects.create(user=analyst, team=teams[0], role=Membership.Role.REVIEWER)
    weighted = []
    for species in Species.objects.filter(kind=Species.Kind.ANIMAL):
        weighted += [species.pk] * int(WEIGHTS.get(species.name_en, 1) * 10)
    with connection.cursor() as cursor:
        for statement in _statements(teams, weighted):
            started = time.perf_counter()
            cursor.execute(statement)
            what = " ".join(statement.split()[:3])
            print(f"  {what:<40} {time.perf_counter() - started:6.1f} s", flush=True)


def _statements(teams: list, weighted: list[int]) -> list[str]:
    species = ",".join(map(str, weighted))
    return [
        f"""INSERT INTO sightings_location (team_id, name, latitude, longitude, country, habitat,
                   has_sensitive_species, is_shared)
            SELECT CASE WHEN n % 2 = 0 THEN {teams[0].pk} ELSE {teams[1].pk} END, 'Station ' || n,
                   40 + random() * 10, 120 + random() * 15, CASE WHEN n % 2 = 0 THEN 'CN' ELSE 'RU' END,
                   '', false, true
            FROM generate_series(1, {STATIONS}) AS n""",
        # Setup on one of the first 7 days of 2023, retrieval on one of the last 5 of 2024,
        # at noon of the camera clock; every tenth station has a second camera.
        f"""INSERT INTO sightings_deployment (location_id, camera_make, camera_model, camera_serial,
                   start_at, end_at, time_zone, clock_correction_seconds, source_id, event_gap_seconds,
                   created_at)
            SELECT l.id, 'RECONYX', 'HYPERFIRE 2', c::text,
                   (timestamp '2023-01-01 12:00' + (l.id % 7) * interval '1 day') AT TIME ZONE {ZONE},
                   (timestamp '2024-12-31 12:00' - (l.id % 5) * interval '1 day') AT TIME ZONE {ZONE},
                   {ZONE}, 0, '', 60, now()
            FROM sightings_location l CROSS JOIN generate_series(1, 2) AS c
            WHERE c = 1 OR l.id % 10 = 0""",
        """INSERT INTO sightings_malfunctionperiod (deployment_id, starts_on, ends_on, reason)
            SELECT d.id, date '2023-06-01' + (d.id % 300)::int, date '2023-06-10' + (d.id % 300)::int, 'battery'
            FROM sightings_deployment d WHERE d.id % 3 = 0""",
        f"""INSERT INTO sightings_event (deployment_id, start_at, end_at, media_count, source_id)
            SELECT d.id, s.at, s.at + interval '5 seconds', 1, ''
            FROM (SELECT n, timestamptz '2023-01-08' + random() * interval '714 days' AS at,
                         1 + floor(random() * (SELECT count(*) FROM sightings_deployment))::int AS k
                  FROM generate_series(1, {SIGHTINGS}) AS n) s
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM sightings_deployment) d USING (k)""",
        f"""INSERT INTO sightings_sighting (event_id, species_id, count, sex, life_stage, behaviour, comment,
                   classification_method, review_status, is_independent, version, source_id, created_at,
                   observed_at, location_id, local_date, local_minute, classified_at, classified_by_name,
                   source_classification_method)
            SELECT e.id, (ARRAY[{species}])[1 + floor(random() * {len(weighted)})::int], 1, '', '', '', '',
                   'human', CASE WHEN random() < 0.9 THEN 'approved' ELSE 'pending' END, random() < 0.4, 1, '',
                   now(), e.start_at, d.location_id, (e.start_at AT TIME ZONE d.time_zone)::date,
                   extract(hour FROM e.start_at AT TIME ZONE d.time_zone) * 60
                     + extract(minute FROM e.start_at AT TIME ZONE d.time_zone), now(), '', ''
            FROM sightings_event e JOIN sightings_deployment d ON d.id = e.deployment_id""",
        "VACUUM ANALYZE",
    ]


def timed(command: str, *options: str) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(command, "--user", "analyst", *options)
    return time.perf_counter() - started


def main() -> None:
    if not os.getenv("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench/analysis.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    environment.configure("analysis")
    environment.set_up_django()
    print(f"Generating {SIGHTINGS} sightings at {STATIONS} stations ...", flush=True)
    started = time.perf_counter()
    generate()
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    out = environment.OUT
    before = peak_mb()
    seconds = {
        "camera operation": timed("camera_operation", "--out", str(out / "camop.csv")),
        "detection history": timed(
            "detection_history",
            "--species",
            "Wild boar",
            "--occasion-length",
            "7",
            "--day1",
            "survey",
            "--include-effort",
            "--out",
            str(out / "history.csv"),
            "--effort-out",
            str(out / "effort.csv"),
        ),  # fmt: skip
        "survey report": timed(
            "survey_report",
            "--out",
            str(out / "report.csv"),
            "--dates-out",
            str(out / "dates.csv"),
        ),  # fmt: skip
    }
    for what, value in seconds.items():
        print(f"{what}: {value:.2f} s")
    print(f"peak memory (maxrss): {before:.0f} MB before the analyses, {peak_mb():.0f} MB after")
    print("analysis s: " + " ".join(f"{value:.2f}" for value in seconds.values()))


if __name__ == "__main__":
    main()
