from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from sightings import camtrapdp_import
from sightings.models import Membership, Team


class Command(BaseCommand):
    help = """Import a Camtrap DP 1.0.2 package (a folder or a zip) into a team's data.

    It is validated first: one that does not validate is refused with its errors, and
    nothing is written. Importing the same package again creates nothing twice."""

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", metavar="PATH_OR_ZIP")
        parser.add_argument("--team", required=True, help="name or id")
        parser.add_argument(
            "--user", help="who uploads the package's images (default: a team admin)"
        )

    def handle(self, *args, **options) -> None:
        team = self._team(options["team"])
        user = self._user(options["user"], team)
        try:
            result = camtrapdp_import.import_package(options["path"], team, user)
        except camtrapdp_import.InvalidPackage as error:
            raise CommandError(
                "The package does not validate; nothing was imported.\n" + "\n".join(error.errors)
            ) from error
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the package: {error}") from error
        created = ", ".join(f"{count} {what}" for what, count in sorted(result.created.items()))
        self.stdout.write(f"Imported: {created or 'nothing new'}.")
        if result.media_files:
            self.stdout.write(f"{result.media_files} image files sent for processing.")

    def _team(self, name: str) -> Team:
        team = Team.objects.filter(name=name).first()
        if team is None and name.isdigit():
            team = Team.objects.filter(pk=int(name)).first()
        if team is None:
            raise CommandError(f"No team {name!r}.")
        return team

    def _user(self, username: str | None, team: Team):
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            return user
        admin = team.memberships.filter(role=Membership.Role.ADMIN).select_related("user").first()
        if admin is None:
            raise CommandError("The team has no admin: name the user with --user.")
        return admin.user
