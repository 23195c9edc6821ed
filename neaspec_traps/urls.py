from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from neaspec_traps.logins import AcceptInvitation

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitation/<uidb64>/<token>/", AcceptInvitation.as_view(), name="accept_invitation"),
    path("api/v1/", include("sightings.api")),
    path("i18n/", include("django.conf.urls.i18n")),
    # gettext, ngettext and interpolate for our scripts, with each language's plural rules.
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("", include("sightings.urls")),
]
