"""Team admin pages: what a team's admins set for their own team."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from sightings import access
from sightings.access import Action
from sightings.forms import SharingForm
from sightings.models import Team


@login_required
def sharing(request: HttpRequest, pk: int) -> HttpResponse:
    """The team's sharing rules: embargo, the teams it shares with, its shared locations."""
    team = access.get_team_for_user(request, pk, Action.MANAGE)
    initial = {
        "embargo_months": team.embargo_months,
        "shares_with": team.shares_with.all(),
        "shared_locations": team.locations.filter(is_shared=True),
    }
    form = SharingForm(request.POST or None, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        _save_sharing(team, form.cleaned_data)
        messages.success(request, _("The sharing rules are saved."))
        return redirect("sightings:team_sharing", team.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "sightings/team_sharing.html", {"team": team, "form": form}, status=status
    )


@transaction.atomic
def _save_sharing(team: Team, data: dict) -> None:
    # Together: other teams never see a half-saved set of rules.
    team.embargo_months = data["embargo_months"]
    team.save(update_fields=["embargo_months"])
    team.shares_with.set(data["shares_with"])
    shared = [location.pk for location in data["shared_locations"]]
    team.locations.filter(pk__in=shared).update(is_shared=True)
    team.locations.exclude(pk__in=shared).update(is_shared=False)
