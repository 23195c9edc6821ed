"""What other teams may see of places where sensitive species live.

The three big cats are sensitive: outside the team that owns a station, its coordinates are
only ever shown generalised to the centre of a grid cell (LOCATION_GRID_DEGREES), on every
surface (access.place and access.places decide who sees what), and its originals reach other
teams only as copies rebuilt without their metadata (shareable.py).
A station is protected as a whole once a sensitive species has been recorded there, so its
exact place cannot be learnt from its other sightings either.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from django.conf import settings

from sightings.models import Location, Sighting, Species


def note_species(location_id: int, species: Iterable) -> None:
    """Remember that a location has records of a sensitive species (never forgotten)."""
    if any(item is not None and item.is_sensitive for item in species):
        Location.objects.filter(pk=location_id, has_sensitive_species=False).update(
            has_sensitive_species=True
        )


def protect_stations_of(species: Species) -> int:
    """Protect every station holding a sighting of a species that is (now) sensitive;
    return how many were not protected before."""
    if not species.is_sensitive:
        return 0
    holding = Sighting.objects.filter(species=species).values("location")
    return Location.objects.filter(pk__in=holding, has_sensitive_species=False).update(
        has_sensitive_species=True
    )


def generalised(
    latitude: float | None, longitude: float | None
) -> tuple[float | None, float | None]:
    """The centre of the grid cell holding a point."""
    grid = settings.LOCATION_GRID_DEGREES
    return tuple(
        None if degrees is None else round((math.floor(degrees / grid) + 0.5) * grid, 6)
        for degrees in (latitude, longitude)
    )


def coordinates(location: Location, protected: set[int]) -> tuple[float | None, float | None]:
    """The location's coordinates as this viewer may see them."""
    if location.pk in protected:
        return generalised(location.latitude, location.longitude)
    return location.latitude, location.longitude
