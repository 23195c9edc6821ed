#!/usr/bin/env python
"""Camtrap DP export benchmark: about a million observations from PostgreSQL.

    DATABASE_URL=postgres://... python bench/export.py      (BENCH_SIGHTINGS=1105000)

Generates the data of bench/browse.py (in SQL, in a database of its own: one image and one
sighting per event, 90 % approved, the big cats' stations protected), with a tenth of the
images named from their card folder so media-based observations are written too. Then
builds the package as an analyst of one Chinese team sees it (their own team's sightings
and every approved one: about 1,000,000 of the 1,105,000) through the export's own
build(): tables written, validated with frictionless and jsonschema, zipped. Prints
observations per second for each stage and the process's peak memory (maxrss) before and
after the export.
"""

from __future__ import annotations

import os
import resource
import time

os.environ.setdefault("BENCH_SIGHTINGS", "1105000")

import browse  # noqa: E402  (bench/ is on the path of a script run from it)
import environment  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """This process's CPU time: on a shared machine, what the export itself cost in Python
    (the database's share is its own process's)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    if not os.getenv("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("bench/export.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    environment.configure("export")
    environment.set_up_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from sightings import access, camtrapdp_export

    print(f"Generating {browse.SIGHTINGS} sightings ...", flush=True)
    started = time.perf_counter()
    browse.generate()
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE sightings_media m SET folder_species_id = s.species_id
               FROM sightings_sighting s WHERE s.event_id = m.event_id AND m.id % 10 = 0"""
        )
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)

    viewer = access.Viewer.of(get_user_model().objects.get(username="analyst"))
    sightings = access.sightings(viewer)
    print(f"visible to the analyst: {sightings.count()} sightings", flush=True)
    out = environment.OUT / "export.zip"
    stages = {}

    def progress(stage: str, done: int) -> None:
        stages.setdefault(stage, (time.perf_counter(), cpu_seconds()))

    before = peak_mb()
    started, started_cpu = time.perf_counter(), cpu_seconds()
    summary = camtrapdp_export.build(viewer, sightings, out, progress)
    ended, ended_cpu = time.perf_counter(), cpu_seconds()
    observations = summary.observations + summary.media_observations
    writing = stages["validating"][0] - started
    validating = ended - stages["validating"][0]
    writing_cpu = stages["validating"][1] - started_cpu
    validating_cpu = ended_cpu - stages["validating"][1]
    print(
        f"{summary.observations} event observations, {summary.media_observations} media "
        f"observations, {summary.media} media, {len(summary.deployments)} deployments; "
        f"zip {out.stat().st_size / 1e6:.0f} MB"
    )
    print(
        f"tables written: {writing:.0f} s, {observations / writing:,.0f} observations/s "
        f"({writing_cpu:.0f} s of CPU in this process)"
    )
    print(
        f"validated and zipped: {validating:.0f} s, {observations / validating:,.0f} "
        f"observations/s ({validating_cpu:.0f} s of CPU)"
    )
    print(f"whole export: {ended - started:.0f} s, {observations / (ended - started):,.0f} "
          "observations/s")  # fmt: skip
    print(f"peak memory (maxrss): {before:.0f} MB before the export, {peak_mb():.0f} MB after")


if __name__ == "__main__":
    main()
