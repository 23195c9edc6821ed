"""The README's Python example runs as written, against a live server, and prints the
approved tiger sightings its token's user may see: all of them, over several pages."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest
from rest_framework.authtoken.models import Token

from sightings.models import Event, Sighting, Species

from .conftest import BASE_DIR


def readme_block(language: str) -> str:
    """The first code block of the language in the README's JSON API section."""
    section = (BASE_DIR / "README.md").read_text().split("## JSON API\n")[1].split("\n## ")[0]
    return re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)[1]


def approved_tigers(deployment, count: int) -> list[int]:
    """More approved tiger sightings than a page holds, one an hour from the deployment's start."""
    tiger, made = Species.objects.get(name_en="Amur tiger"), []
    for hour in range(count):
        when = deployment.start_at + dt.timedelta(hours=hour)
        event = Event.objects.create(deployment=deployment, start_at=when, end_at=when)
        made.append(Sighting.objects.create(event=event, species=tiger, review_status="approved",
                                            **event.placement()).pk)  # fmt: skip
    return made


@pytest.mark.django_db(transaction=True)
def test_the_python_example_prints_the_approved_tiger_sightings(
    live_server, catalogue, records, cn_deployment
):
    alice = records["users"]["cn-uploader"]
    more = approved_tigers(cn_deployment, 100)
    environment = {
        **os.environ,
        "NEASPEC_URL": live_server.url,
        "NEASPEC_TOKEN": Token.objects.create(user=alice).key,
    }
    run = subprocess.run(
        [sys.executable, "-c", readme_block("python")], env=environment,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    printed = [line.split() for line in run.stdout.splitlines()]
    tigers = [records["sightings"]["tiger"].pk, records["sightings"]["ru_tiger"].pk, *more]
    assert [int(line[0]) for line in printed] == sorted(tigers)  # not the pending one
    # Alice's own station exactly; the Russian team's protected one on its grid.
    assert printed[0][2:] == ["43.0853", "130.9564"]
    ru = next(line for line in printed if int(line[0]) == records["sightings"]["ru_tiger"].pk)
    assert ru[2:] == ["43.15", "131.45"]
