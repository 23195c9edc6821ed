"""Login throttling (django-axes): where a login comes from, and the page of a lockout."""

from __future__ import annotations

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _


def client_ip(request: HttpRequest) -> str | None:
    """The address a login comes from; the proxy's header only behind our own proxy."""
    if settings.BEHIND_HTTPS_PROXY:
        # Our proxy appends the address it sees: the right-most entry. Anything left of it
        # came from the client and may be made up.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR")


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The lockout page, saying how long to wait (axes' own template context has no minutes)."""
    minutes = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class AcceptInvitation(PasswordResetConfirmView):
    """The link of an invitation to a team (sightings/members.py): the invited person sets a
    password, which opens their account. Django's password-reset view checks the link."""

    template_name = "registration/invitation.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):
        form.user.is_active = True  # saved with the password by the form
        messages.success(self.request, _("Your password is set. Log in with it."))
        return super().form_valid(form)
