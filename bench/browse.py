#!/usr/bin/env python
"""Browser benchmark: a million sightings in PostgreSQL, through Django's request handling.

    DATABASE_URL=postgres://... python bench/browse.py      (BENCH_SIGHTINGS=1000000)

Generates (in SQL, in a database of its own) 20 teams in CN, RU, MN and KR, 50,000
locations with a deployment each, and BENCH_SIGHTINGS events with one image and one
sighting each over ten years: species weighted as camera traps see them (many boar and
deer, few big cats), 90 % approved. Then times, as an analyst of one Chinese team:
the browser's common filter combinations (first page), a page deep in the result, the
GeoJSON of all 50,000 locations, and a full CSV export (rows per second, and the peak of
Python memory while streaming it). Prints the figures and SQL queries per page.
"""

from __future__ import annotations

import os
import statistics
import time
import tracemalloc

import environment

SIGHTINGS = int(os.getenv("BENCH_SIGHTINGS", "1000000"))
LOCATIONS = 50_000
TEAMS = [("CN", 8), ("RU", 8), ("MN", 2), ("KR", 2)]
# Relative frequency by English name; the rest of the catalogue's animals share weight 1.
WEIGHTS = {
    "Blank": 30, "Wild boar": 14, "Siberian roe deer": 12, "Sika deer": 10, "Red deer (wapiti)": 5,
    "Raccoon dog": 4, "Asian badger": 4, "Leopard cat": 4, "Human": 3, "Asian black bear": 2,
    "Amur tiger": 1, "Amur leopard": 1, "Snow leopard": 0.3,
}  # fmt: skip
REPEATS = 5


def generate() -> None:
    """Everything in a few INSERT ... SELECT statements: seconds, not an hour of ORM."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from sightings.models import Membership, Species, Team

    teams = [
        Team.objects.create(name=f"{country} team {n}", country=country)
        for country, count in TEAMS
        for n in range(count)
    ]
    analyst = get_user_model().objects.create_user("analyst")
    Membership.objects.create(user=analyst, team=teams[0], role=Membership.Role.REVIEWER)
    weighted = []
    for species in Species.objects.all():
        weighted += [species.pk] * int(WEIGHTS.get(species.name_en, 1) * 10)
    with connection.cursor() as cursor:
        for statement in _statements(teams, weighted, analyst.pk):
            started = time.perf_counter()
            cursor.execute(statement)
            what = " ".join(statement.split()[:3])
            print(f"  {what:<40} {time.perf_counter() - started:6.1f} s", flush=True)


def _statements(teams: list, weighted: list[int], user: int) -> list[str]:
    team_ids = ",".join(str(team.pk) for team in teams)
    countries = ",".join(f"'{team.country}'" for team in teams)
    species = ",".join(map(str, weighted))
    zone = "CASE WHEN l.country = 'RU' THEN 'Asia/Vladivostok' ELSE 'Asia/Shanghai' END"
    return [
        f"""INSERT INTO sightings_location (team_id, name, latitude, longitude, country, habitat, has_sensitive_species,
                   is_shared)
            SELECT (ARRAY[{team_ids}])[1 + n % {len(teams)}], 'Station ' || n,
                   40 + random() * 10, 120 + random() * 15, (ARRAY[{countries}])[1 + n % {len(teams)}], '', false, true
            FROM generate_series(1, {LOCATIONS}) AS n""",
        f"""INSERT INTO sightings_deployment (location_id, camera_make, camera_model, camera_serial, start_at, end_at,
                   time_zone, clock_correction_seconds, event_gap_seconds, created_at, source_id)
            SELECT l.id, 'RECONYX', 'HYPERFIRE 2', '', '2015-01-01', NULL, {zone}, 0, 60, now(), ''
            FROM sightings_location l""",
        f"""INSERT INTO sightings_uploadbatch (deployment_id, uploaded_by_id, created_at)
            SELECT d.id, {user}, now() FROM sightings_deployment d""",
        f"""INSERT INTO sightings_event (deployment_id, start_at, end_at, media_count, source_id)
            SELECT d.id, s.at, s.at + interval '5 seconds', 1, ''
            FROM (SELECT n, timestamptz '2015-01-01' + random() * interval '3650 days' AS at,
                         1 + floor(random() * {LOCATIONS})::int AS k
                  FROM generate_series(1, {SIGHTINGS}) AS n) s
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k FROM sightings_deployment) d USING (k)""",
        """INSERT INTO sightings_media (batch_id, deployment_id, sha256, file, original_name, folder, file_size, state,
                   failure_reason, failure_detail, attempt_count, created_at, processed_at, width, height,
                   camera_time, camera_offset, capture_time_source, captured_at, is_outside_deployment, make, model,
                   serial_number, image_description, trigger_mode, user_label, maker_note_time, exif, warnings,
                   thumbnail, preview, event_id, format, source_url, source_id)
            SELECT b.id, e.deployment_id, lpad(to_hex(e.id), 64, '0'), 'originals/' || e.id || '.jpg',
                   'RCNX' || e.id || '.JPG', '', 3000000, 'processed', '', '', 1, now(), now(), 4000, 3000,
                   to_char(e.start_at, 'YYYY-MM-DD"T"HH24:MI:SS'), '', 'DateTimeOriginal', e.start_at, false,
                   'RECONYX', 'HYPERFIRE 2', '', '', 'M', '', '', '{}', '[]',
                   'thumbnails/' || e.id || '.jpg', 'previews/' || e.id || '.jpg', e.id, 'jpeg', '', ''
            FROM sightings_event e JOIN sightings_uploadbatch b ON b.deployment_id = e.deployment_id""",
        f"""INSERT INTO sightings_sighting (event_id, species_id, count, sex, life_stage, behaviour, comment,
                   classification_method, review_status, is_independent, version, created_at, observed_at,
                   location_id, local_date, local_minute, classified_at, source_id, classified_by_name,
                   source_classification_method)
            SELECT e.id, (ARRAY[{species}])[1 + floor(random() * {len(weighted)})::int], 1, '', '', '', '',
                   'human', CASE WHEN random() < 0.9 THEN 'approved' ELSE 'pending' END, random() < 0.4, 1, now(),
                   e.start_at, d.location_id, (e.start_at AT TIME ZONE d.time_zone)::date,
                   extract(hour FROM e.start_at AT TIME ZONE d.time_zone) * 60
                     + extract(minute FROM e.start_at AT TIME ZONE d.time_zone), now(), '', '', ''
            FROM sightings_event e JOIN sightings_deployment d ON d.id = e.deployment_id""",
        """UPDATE sightings_location l SET has_sensitive_species = true
            WHERE EXISTS (SELECT 1 FROM sightings_sighting s JOIN sightings_species sp ON sp.id = s.species_id
                          WHERE s.location_id = l.id AND sp.is_sensitive)""",
        # As a production database is once autovacuum has visited: statistics, and the
        # visibility map that index-only scans need.
        "VACUUM ANALYZE",
    ]


def timed(client, url: str, params: dict | None = None) -> tuple[float, int, object]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, params or {})
        elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, len(queries), response


def main() -> None:
    if not os.getenv("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench/browse.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    environment.configure("browse")
    environment.set_up_django()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from sightings import access, paging
    from sightings.models import Location, Species, Team

    print(f"Generating {SIGHTINGS} sightings at {LOCATIONS} locations ...", flush=True)
    started = time.perf_counter()
    generate()
    print(f"generated in {time.perf_counter() - started:.0f} s")
    analyst = get_user_model().objects.get(username="analyst")
    client = Client()
    client.force_login(analyst)
    tiger, boar = (Species.objects.get(name_en=name).pk for name in ("Amur tiger", "Wild boar"))
    russia_team = Team.objects.filter(country="RU").first().pk
    station = Location.objects.order_by("pk")[LOCATIONS // 2].pk
    combinations = {
        "everything": {},
        "Amur tiger": {"species": tiger},
        "Russia": {"country": "RU"},
        "boar in 2020": {"species": boar, "date_from": "2020-01-01", "date_to": "2020-12-31"},
        "a Russian team, independent": {"team": russia_team, "independent": "on"},
        "night, 20:00 to 04:00": {"time_from": "20:00", "time_to": "04:00"},
        "search 'тигр'": {"q": "тигр"},
        "one station": {"location": station},
        "image grid": {"view": "grid"},
    }
    for params in combinations.values():  # warm caches once
        client.get("/sightings/", params)
    pages, queries = [], set()
    print("\nfirst page, median of 5 (ms) and SQL queries:")
    for label, params in combinations.items():
        runs = [timed(client, "/sightings/", params) for _ in range(REPEATS)]
        median = statistics.median(ms for ms, _, _ in runs)
        pages.append(median)
        queries |= {count for _, count, _ in runs}
        print(f"  {label:<30} {median:7.1f} ms  {runs[0][1]} queries")

    # A page 90 % of the way down the unfiltered result, reached by its cursor as the
    # "next" links reach it.
    visible = access.sightings(access.Viewer.of(analyst))
    deep_row = visible.order_by("-observed_at", "-id")[int(visible.count() * 0.9)]
    cursor = paging._cursor(deep_row, paging.ORDERS["-time"])
    deep = [timed(client, "/sightings/", {"after": cursor}) for _ in range(REPEATS)]
    deep_ms = statistics.median(ms for ms, _, _ in deep)
    queries |= {count for _, count, _ in deep}
    print(f"  {'deep page (90 % down)':<30} {deep_ms:7.1f} ms  {deep[0][1]} queries")

    geo = [timed(client, "/map.geojson") for _ in range(REPEATS)]
    geo_ms = statistics.median(ms for ms, _, _ in geo)
    points = len(geo[0][2].json()["features"])
    print(f"\nGeoJSON: {points} points in {geo_ms:.0f} ms ({len(geo[0][2].content) / 1e6:.1f} MB)")
    counts = [timed(client, "/sightings/count/") for _ in range(REPEATS)]
    print(
        f"count of all visible sightings (the page's second request): "
        f"{statistics.median(ms for ms, _, _ in counts):.0f} ms"
    )

    rates = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.get("/sightings.csv")
        rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
        rates.append(rows / (time.perf_counter() - started))
    rate = statistics.median(rates)
    print(
        f"CSV export: {rows} rows, {', '.join(f'{r:,.0f}' for r in rates)} rows/s (median {rate:,.0f})"
    )
    tracemalloc.start()
    streamed = 0
    for chunk in client.get("/sightings.csv").streaming_content:
        streamed += chunk.count(b"\n")
        if streamed > 200_000:
            break
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"CSV memory: peak {peak / 1e6:.1f} MB of Python objects while streaming 200,000 rows")
    per_page = max(queries) if len(queries) == 1 else f"{min(queries)}-{max(queries)}"
    print(
        f"browse median ms: {statistics.median(pages):.1f} deep-page ms: {deep_ms:.1f} "
        f"geojson ms: {geo_ms:.0f} csv rows/s: {rate:.0f} queries/page: {per_page}"
    )


if __name__ == "__main__":
    main()
