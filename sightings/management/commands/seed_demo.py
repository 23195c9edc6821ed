from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from sightings.models import Country, Deployment, Location, Membership, Team

DEMO_PASSWORD = "demo"

TEAMS = [
    {
        "name": "Northeast China Tiger and Leopard National Park",
        "country": Country.CN,
        "prefix": "cn",
        "location": ("Hunchun HC-07", 43.0853, 130.9564),
        "time_zone": "Asia/Shanghai",
    },
    {
        "name": "Land of the Leopard National Park",
        "country": Country.RU,
        "prefix": "ru",
        "location": ("Kedrovaya Pad KP-12", 43.1017, 131.4852),
        "time_zone": "Asia/Vladivostok",
    },
]


class Command(BaseCommand):
    help = """Create demo teams, locations, deployments and one user per role (for `make run`).

    Idempotent: what exists already is left as it is. Never run this in production."""

    def handle(self, *args, **options) -> str:
        admin, created = self._user("admin", is_staff=True, is_superuser=True)
        self._report("site admin", admin, created)
        for spec in TEAMS:
            team = self._team(spec)
            for role in Membership.Role:
                user, created = self._user(f"{spec['prefix']}-{role.value}")
                Membership.objects.get_or_create(user=user, team=team, role=role)
                self._report(f"{role.label} of {team.name}", user, created)
        return "Done!"

    def _team(self, spec: dict) -> Team:
        team, _ = Team.objects.get_or_create(
            name=spec["name"], defaults={"country": spec["country"]}
        )
        name, latitude, longitude = spec["location"]
        location, _ = Location.objects.get_or_create(
            team=team,
            name=name,
            defaults={"latitude": latitude, "longitude": longitude, "country": spec["country"]},
        )
        Deployment.objects.get_or_create(
            location=location,
            defaults={
                "start_at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                "time_zone": spec["time_zone"],
                "camera_make": "RECONYX",
                "camera_model": "HYPERFIRE 2 COVERT",
            },
        )
        return team

    def _user(self, username: str, **flags) -> tuple:
        user, created = get_user_model().objects.get_or_create(username=username, defaults=flags)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user, created

    def _report(self, role: str, user, created: bool) -> None:
        state = "created" if created else "exists"
        self.stdout.write(f"  {user.username:<14} password {DEMO_PASSWORD!r:<8} {role} ({state})")
