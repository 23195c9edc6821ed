"""A team's members and their roles, as its team admins change them.

A user holds one Membership row per role in a team, and may belong to several teams. A team
always keeps a team admin: the last one can neither be removed nor lose the role, or nobody
but a site admin could manage the team again. People without an account are invited by
e-mail: an inactive account with no password, and a set-password link made by Django's
password-reset machinery, which the invitation page accepts once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from sightings.models import Membership, Team

Role = Membership.Role


class LastAdmin(Exception):
    """The change would leave the team without a team admin."""


def find_user(text: str):
    """The account with this user name or e-mail address, or None."""
    text = text.strip()
    if not text:
        return None
    users = get_user_model().objects.filter(Q(username__iexact=text) | Q(email__iexact=text))
    # Two accounts may share an e-mail address; a user name is unique, so it wins.
    return users.filter(username__iexact=text).first() or users.first()


def roles_of(team: Team) -> dict:
    """{user: [roles]} of the team's members, by user name."""
    members: dict = {}
    rows = team.memberships.select_related("user").order_by("user__username", "role")
    for membership in rows:
        members.setdefault(membership.user, []).append(membership.role)
    return members


def add(team: Team, user, role: str) -> bool:
    """Give the user the role in the team; return whether it is new."""
    _, created = Membership.objects.get_or_create(team=team, user=user, role=role)
    return created


def set_roles(team: Team, user, roles: Iterable[str]) -> None:
    """Make the user's roles in the team exactly these (none: remove them from it)."""
    roles = set(roles)
    with transaction.atomic():
        # The team's row locked: two admins taking the role from each other at once must
        # not both see the other one left.
        Team.objects.select_for_update().get(pk=team.pk)
        if Role.ADMIN not in roles and _is_last_admin(team, user):
            raise LastAdmin
        team.memberships.filter(user=user).exclude(role__in=roles).delete()
        for role in roles:
            Membership.objects.get_or_create(team=team, user=user, role=role)


def remove(team: Team, user) -> None:
    set_roles(team, user, [])


def _is_last_admin(team: Team, user) -> bool:
    admins = set(team.memberships.filter(role=Role.ADMIN).values_list("user_id", flat=True))
    return admins == {user.pk}


def invite(team: Team, email: str, role: str, by, site_url: str):
    """Give the role to whoever has this e-mail address, inviting them if they have no
    account yet (or have not accepted an invitation); return the user."""
    user = find_user(email)
    if user is None:
        User = get_user_model()
        user = User(username=email.lower(), email=email, is_active=False)
        user.set_unusable_password()
        user.save()
    add(team, user, role)
    if not user.is_active:
        send_invitation(team, user, by, site_url)
    return user


def send_invitation(team: Team, user, by, site_url: str) -> None:
    """E-mail the user a link to set their password, which activates the account."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = site_url + reverse("accept_invitation", args=[uid, token])
    context = {"team": team, "by": by, "link": link, "username": user.get_username()}
    send_mail(
        _("You are invited to %(team)s on the NEASPEC camera-trap exchange") % {"team": team},
        render_to_string("registration/invitation_email.txt", context),
        None,
        [user.email],
    )
