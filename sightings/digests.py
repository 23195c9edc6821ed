"""The daily review e-mail: how many sightings wait for a person's review and how many came
back to them, at most once a day each, to those who did not turn it off."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sightings import access
from sightings.access import Action
from sightings.models import NotificationSettings

EVERY = dt.timedelta(days=1)


def send_all() -> int:
    """Send the digests that are due; return how many were sent."""
    now = timezone.now()
    # A person is due if they hold a role, have an address, and were not sent one this day
    # (no settings row yet: never sent, and the digest is on by default).
    people = get_user_model().objects.filter(is_active=True, memberships__isnull=False)
    people = people.exclude(email="").exclude(notification_settings__review_digest=False)
    people = people.filter(
        Q(notification_settings=None)
        | Q(notification_settings__digest_sent_at=None)
        | Q(notification_settings__digest_sent_at__lte=now - EVERY)
    )
    return sum(send_one(user, now) for user in people.distinct())


def send_one(user, now: dt.datetime) -> bool:
    """Send this person their digest if anything waits for them; return whether it was."""
    viewer = access.Viewer.of(user)
    waiting = access.to_review(viewer).count() if viewer.teams(Action.REVIEW) else 0
    returned = access.returned_to(viewer, user).count() if viewer.teams(Action.NAME) else 0
    if not waiting and not returned:
        return False
    # Kept before sending: a digest may be lost, but never sent twice in a day.
    NotificationSettings.objects.update_or_create(user=user, defaults={"digest_sent_at": now})
    send_mail(
        _("NEASPEC camera-trap exchange: what waits for you"),
        _body(waiting, returned),
        None,
        [user.email],
    )
    return True


def _body(waiting: int, returned: int) -> str:
    lines = []
    if waiting:
        lines.append(
            ngettext(
                "%(count)d sighting waits for your review: %(url)s",
                "%(count)d sightings wait for your review: %(url)s",
                waiting,
            )
            % {"count": waiting, "url": settings.SITE_URL + reverse("sightings:review_queue")}
        )
    if returned:
        lines.append(
            ngettext(
                "%(count)d sighting came back to you from review: %(url)s",
                "%(count)d sightings came back to you from review: %(url)s",
                returned,
            )
            % {"count": returned, "url": settings.SITE_URL + reverse("sightings:returned")}
        )
    settings_url = settings.SITE_URL + reverse("sightings:notifications")
    lines.append("")
    lines.append(_("To stop these e-mails: %(url)s") % {"url": settings_url})
    return "\n".join(lines)
