"""How often a script may ask the API (settings.REST_FRAMEWORK): a module of its own, since
DRF imports the throttle classes while it imports its views."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class PerTokenThrottle(UserRateThrottle):
    """Requests counted per user, and so per token (each user has one), at the rate of the
    "user" scope; a request without credentials is counted by its address."""

    def get_rate(self) -> str:
        # Read at each request, not frozen at import as DRF's class attribute is, so that
        # the rate follows the settings (and a test's override of them).
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
