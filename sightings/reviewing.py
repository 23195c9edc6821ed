"""The review queue and what came back to uploaders: pages over classification.review().

A reviewer decides one sighting or several at once; each goes through review() on the version
the reviewer saw, so the rules (named only, second opinion, no overwriting) hold for each."""

from __future__ import annotations

from functools import cached_property

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from sightings import access, classification, crossborder
from sightings.access import Action
from sightings.filters import ReviewFilter
from sightings.models import Media, NotificationSettings, Sighting, SightingChange

PER_PAGE = 20
DECISIONS = [
    (Sighting.Review.APPROVED, gettext_lazy("Approve")),
    (Sighting.Review.RETURNED, gettext_lazy("Return to the uploader")),
    (Sighting.Review.REJECTED, gettext_lazy("Reject")),
]


class Counts:
    """What waits for a person, for the navigation and the home page: each number is one
    count, made only when a page shows it."""

    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    @property
    def reviews(self) -> bool:
        return bool(access.viewer(self.request).teams(Action.REVIEW))

    @property
    def names(self) -> bool:
        return bool(access.viewer(self.request).teams(Action.NAME))

    @cached_property
    def to_review(self) -> int:
        return access.to_review(access.viewer(self.request)).count() if self.reviews else 0

    @cached_property
    def notices(self) -> int:
        """Unseen news of individuals recorded across the border (crossborder.py)."""
        return crossborder.unseen_count(self.request.user)

    @cached_property
    def returned(self) -> int:
        if not self.names:
            return 0
        return access.returned_to(access.viewer(self.request), self.request.user).count()


def review_counts(request: HttpRequest) -> dict:
    """Context processor: the review counts of the logged-in user."""
    if not request.user.is_authenticated:
        return {}
    return {"review_counts": Counts(request)}


class DecisionForm(forms.Form):
    status = forms.ChoiceField(choices=DECISIONS)
    comment = forms.CharField(max_length=2000, required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("status") == Sighting.Review.RETURNED and not cleaned.get("comment"):
            raise forms.ValidationError(_("Say what to fix when you return a sighting."))
        return cleaned


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    viewer = access.viewer(request)
    if not viewer.teams(Action.REVIEW):
        raise PermissionDenied
    waiting = access.to_review(viewer).order_by("classified_at", "pk")
    filterset = ReviewFilter(request.GET, queryset=waiting, request=request)
    rows = filterset.qs.select_related("species", "individual", "location", "classified_by")
    images = Media.objects.exclude(preview="").order_by("captured_at", "pk")
    images = images.only("pk", "event_id", "preview", "original_name")
    rows = rows.select_related("event").prefetch_related(Prefetch("event__media", images))
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for sighting in page:
        sighting.second_opinion = classification.needs_second_opinion(sighting, request.user)
    context = {
        "filter": filterset,
        "page": page,
        "count": page.paginator.count,
        "decisions": DECISIONS,
        "filters_only": _without_page(request),
    }
    return render(request, "sightings/review_queue.html", context)


@login_required
@require_POST
def decide(request: HttpRequest) -> HttpResponse:
    """One decision on the chosen sightings, each on the version the reviewer saw."""
    viewer = access.viewer(request)
    waiting = access.to_review(viewer)
    chosen = {int(pk) for pk in request.POST.getlist("sighting") if pk.isdigit()}
    teams = viewer.teams(Action.REVIEW)
    foreign = Sighting.objects.filter(pk__in=chosen).exclude(location__team__in=teams)
    if not teams or foreign.exists():
        raise PermissionDenied  # another team's sighting: not theirs to decide
    form = DecisionForm(request.POST)
    back = _back(request)
    if not form.is_valid() or not chosen:
        errors = [e for errors in form.errors.values() for e in errors]
        messages.error(request, " ".join(errors) or _("Choose the sightings to decide."))
        return redirect(back)
    # Decided meanwhile by another reviewer, renamed into a draft, or gone.
    found = list(waiting.filter(pk__in=chosen).select_related("species"))
    decided, refused = 0, []
    if len(found) < len(chosen):
        gone = len(chosen) - len(found)
        refused.append(
            ngettext(
                "%(count)d sighting no longer waits for your review.",
                "%(count)d sightings no longer wait for your review.",
                gone,
            )
            % {"count": gone}
        )
    for sighting in found:
        version = request.POST.get(f"version-{sighting.pk}", "")
        try:
            classification.review(
                sighting, form.cleaned_data["status"], request.user,
                int(version) if version.isdigit() else 0, form.cleaned_data["comment"],
            )  # fmt: skip
            decided += 1
        except classification.Conflict:
            refused.append(
                _("%(sighting)s was changed after you opened it: check it again.")
                % {"sighting": sighting}
            )
        except classification.Refused as reason:
            refused.append(f"{sighting}: {reason.message}")
    if decided:
        messages.success(
            request,
            ngettext("%(count)d sighting decided.", "%(count)d sightings decided.", decided)
            % {"count": decided},
        )
    for reason in refused:
        messages.error(request, reason)
    return redirect(back)


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _back(request: HttpRequest) -> str:
    """The queue as the reviewer had it filtered."""
    back = request.POST.get("next", "")
    if back.startswith("/review/") and url_has_allowed_host_and_scheme(back, None):
        return back
    return "/review/"


@login_required
def returned(request: HttpRequest) -> HttpResponse:
    viewer = access.viewer(request)
    rows = (
        access.returned_to(viewer, request.user)
        .select_related("species", "location", "event")
        .prefetch_related(Prefetch("changes", NEWEST_FIRST, to_attr="newest_changes"))
        .order_by("classified_at", "pk")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    for sighting in page:
        sighting.return_note = _return_note(sighting)
    context = {"page": page, "count": page.paginator.count}
    return render(request, "sightings/returned.html", context)


NEWEST_FIRST = SightingChange.objects.select_related("changed_by").order_by("-changed_at", "-pk")


def _return_note(sighting: Sighting) -> SightingChange | None:
    """The decision that sent it back: who returned it, when, and the comment."""
    for change in sighting.newest_changes:
        if change.changes.get("review_status", [None, None])[1] == Sighting.Review.RETURNED:
            change.comment = change.changes.get("review_comment", ["", ""])[1]
            return change
    return None


class NotificationForm(forms.Form):
    review_digest = forms.BooleanField(
        label=gettext_lazy(
            "Send me a daily e-mail with what waits for my review and what came back to me"
        ),
        required=False,
    )
    cross_border = forms.BooleanField(
        label=gettext_lazy(
            "E-mail me when an individual my team recorded or named is first recorded in "
            "another country"
        ),
        required=False,
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    preferences = NotificationSettings.objects.filter(user=request.user).first()
    preferences = preferences or NotificationSettings(user=request.user)
    initial = {"review_digest": preferences.review_digest, "cross_border": preferences.cross_border}
    # Not `request.POST or None`: with the box unticked the POST is empty, and still a POST.
    posted = request.POST if request.method == "POST" else None
    form = NotificationForm(posted, initial=initial)
    if posted is not None and form.is_valid():
        preferences.review_digest = form.cleaned_data["review_digest"]
        preferences.cross_border = form.cleaned_data["cross_border"]
        preferences.save()
        messages.success(request, _("Your e-mail settings are saved."))
        return redirect("sightings:notifications")
    # Shown once as new, then seen: opening this page is how a person reads them.
    notices = list(crossborder.notices(request.user)[:NOTICES_SHOWN])
    crossborder.mark_seen(request.user)
    return render(request, "sightings/notifications.html", {"form": form, "notices": notices})


NOTICES_SHOWN = 100
