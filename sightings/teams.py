"""A team's own pages: its members, locations, deployments, card habits and sharing rules.

Every member sees the team's locations and deployments; team admins (and site admins)
change them, and manage members, the folder answers the team's cards are read with, and
what the team shares with the others.
"""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sightings import access, events, folders, members
from sightings.access import Action
from sightings.forms import (
    AddMemberForm,
    DeploymentForm,
    FolderAnswerForm,
    InviteForm,
    LocationForm,
    MalfunctionFormSet,
    RolesForm,
    SharingForm,
)
from sightings.models import Deployment, FolderAnswer, Membership, PendingGrouping, Team
from sightings.views import _species_labels


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    teams = access.teams(access.viewer(request), Action.VIEW).annotate(
        member_count=Count("memberships__user", distinct=True),
        location_count=Count("locations", distinct=True),
    )
    return render(request, "sightings/team_list.html", {"teams": teams})


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for_user(request, pk)
    can_manage = access.may(request, Action.MANAGE, team.pk)
    deployments = Deployment.objects.annotate(media_count=Count("media")).order_by("-start_at")
    locations = team.locations.prefetch_related(Prefetch("deployments", queryset=deployments))
    context = {
        "team": team,
        "can_manage": can_manage,
        "can_import": access.may(request, Action.IMPORT, team.pk),
        "locations": locations,
        "regrouping": regrouping(team),
    }
    if can_manage:
        context |= {
            "members": members.roles_of(team),
            "role_choices": Membership.Role.choices,
            "add_form": AddMemberForm(),
            "invite_form": InviteForm(),
            "folder_answers": team.folder_answers.select_related("species", "answered_by"),
            "species_labels": _species_labels(),  # as on the batch page
        }
    return render(request, "sightings/team_detail.html", context)


def regrouping(team: Team) -> set[int]:
    """The team's deployments whose images wait to be worked out again (events.py)."""
    pending = PendingGrouping.objects.filter(everything=True, deployment__location__team=team)
    return set(pending.values_list("deployment_id", flat=True))


@login_required
def grouping_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Which deployments are still being regrouped, for the team page to say when it is done."""
    team = access.get_team_for_user(request, pk)
    return JsonResponse({"regrouping": sorted(regrouping(team))})


# Members


@login_required
@require_POST
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for_user(request, pk, Action.MANAGE)
    form = AddMemberForm(request.POST)
    if form.is_valid():
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        members.add(team, user, role)
        messages.success(request, _("%(user)s is a member of the team.") % {"user": user})
    else:
        _report(request, form)
    return redirect("sightings:team_detail", team.pk)


@login_required
@require_POST
def invite_member(request: HttpRequest, pk: int) -> HttpResponse:
    team = access.get_team_for_user(request, pk, Action.MANAGE)
    form = InviteForm(request.POST)
    if form.is_valid():
        email, role = form.cleaned_data["email"], form.cleaned_data["role"]
        site = request.build_absolute_uri("/").rstrip("/")
        user = members.invite(team, email, role, request.user, site)
        if user.is_active:
            text = _("%(email)s has an account already and is now a member of the team.")
        else:
            text = _("An invitation was sent to %(email)s.")
        messages.success(request, text % {"email": email})
    else:
        _report(request, form)
    return redirect("sightings:team_detail", team.pk)


@login_required
@require_POST
def member_roles(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """Change a member's roles in the team, or remove them from it ("remove" in the form)."""
    team = access.get_team_for_user(request, pk, Action.MANAGE)
    members_only = get_user_model().objects.filter(pk__in=team.memberships.values("user"))
    user = get_object_or_404(members_only, pk=user_pk)
    form = RolesForm(request.POST)
    if "remove" not in request.POST and not form.is_valid():
        _report(request, form)
        return redirect("sightings:team_detail", team.pk)
    roles = [] if "remove" in request.POST else form.cleaned_data["roles"]
    try:
        members.set_roles(team, user, roles)
    except members.LastAdmin:
        messages.error(request, _("The team needs a team admin: make someone else one first."))
    else:
        text = _("%(user)s left the team.") if not roles else _("%(user)s's roles are saved.")
        messages.success(request, text % {"user": user})
    return redirect("sightings:team_detail", team.pk)


def _report(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# Locations and deployments


@login_required
def location_edit(
    request: HttpRequest, pk: int | None = None, team_pk: int | None = None
) -> HttpResponse:
    if pk is None:
        team, location = access.get_team_for_user(request, team_pk, Action.MANAGE), None
    else:
        location = access.get_location_for_user(request, pk, Action.MANAGE)
        team = location.team
    initial = {"country": team.country} if location is None else None
    form = LocationForm(request.POST or None, instance=location, initial=initial, team=team)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("The location %(name)s is saved.") % {"name": form.instance})
        return redirect("sightings:team_detail", team.pk)
    return render(request, "sightings/location_form.html", {"team": team, "form": form})


@login_required
def deployment_edit(
    request: HttpRequest, pk: int | None = None, team_pk: int | None = None
) -> HttpResponse:
    if pk is None:
        team, deployment = access.get_team_for_user(request, team_pk, Action.MANAGE), None
    else:
        deployment = access.get_deployment_for_user(request, pk, Action.MANAGE)
        team = deployment.location.team
    initial = {"location": request.GET.get("location")} if deployment is None else None
    form = DeploymentForm(request.POST or None, instance=deployment, initial=initial, team=team)
    malfunctions = _malfunctions(request, deployment)
    if request.method == "POST" and _valid(form, malfunctions):
        before = {name: form.initial.get(name) for name in form.changed_data}
        with transaction.atomic():
            deployment = form.save()
            if malfunctions is not None:
                malfunctions.save()
        messages.success(request, _("The deployment %(name)s is saved.") % {"name": deployment})
        # The same domain function as the admin: capture times and events follow the change.
        if pk is not None and events.deployment_changed(deployment, before):
            messages.info(request, _("Capture times and events are being worked out again."))
        return redirect("sightings:team_detail", team.pk)
    context = {
        "team": team,
        "form": form,
        "deployment": deployment,
        "regrouping": deployment is not None and deployment.pk in regrouping(team),
        "time_zones": sorted(zoneinfo.available_timezones()),
        # Shown as stored where a post left them out.
        "malfunctions": malfunctions or _stored_malfunctions(deployment),
    }
    return render(request, "sightings/deployment_form.html", context)


MALFUNCTIONS = "malfunctions"  # the formset's prefix


def _malfunctions(request: HttpRequest, deployment: Deployment | None) -> MalfunctionFormSet | None:
    """The deployment's malfunction periods, as posted or as stored. None for a new deployment
    (they are added once it exists) and for a post without them (a client that changes only
    the deployment's own fields)."""
    if request.method != "POST":
        return _stored_malfunctions(deployment)
    if deployment is None or f"{MALFUNCTIONS}-TOTAL_FORMS" not in request.POST:
        return None
    return MalfunctionFormSet(request.POST, instance=deployment, prefix=MALFUNCTIONS)


def _stored_malfunctions(deployment: Deployment | None) -> MalfunctionFormSet | None:
    if deployment is None:
        return None
    return MalfunctionFormSet(instance=deployment, prefix=MALFUNCTIONS)


def _valid(form: DeploymentForm, malfunctions: MalfunctionFormSet | None) -> bool:
    # The form first: it puts the new period on the deployment that the malfunction periods
    # are checked against.
    valid = form.is_valid()
    return (malfunctions is None or malfunctions.is_valid()) and valid


# Card habits


@login_required
@require_POST
def folder_answer(request: HttpRequest, pk: int, answer_pk: int) -> HttpResponse:
    """Change what a folder name means for the team's next cards, or forget it."""
    team = access.get_team_for_user(request, pk, Action.MANAGE)
    answer = get_object_or_404(FolderAnswer, pk=answer_pk, team=team)
    if "forget" in request.POST:
        answer.delete()
        messages.success(request, _("%(name)s will be asked about again.") % {"name": answer})
        return redirect("sightings:team_detail", team.pk)
    form = FolderAnswerForm(request.POST)
    if form.is_valid():
        folders.remember(team, answer.name, form.cleaned_data["species"], request.user)
        messages.success(request, _("The answer for %(name)s is saved.") % {"name": answer})
    else:
        _report(request, form)
    return redirect("sightings:team_detail", team.pk)


# Sharing rules


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
