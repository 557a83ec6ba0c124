from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from cartography import api as cartography_api
from signalements.api.views import ApiRootView
from signalements.trust.throttles import page_throttle

# Swagger UI and Redoc write their own styles inline, and Redoc searches in a blob: worker: the
# documentation pages, and only they, allow that. Swagger's start-up script is a file (split view).
docs_policy = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("signalements.api.urls")),
    path("territories/", cartography_api.TerritoryListView.as_view(), name="territory-list"),
    path("districts/", cartography_api.DistrictListView.as_view(), name="district-list"),
    path("teams/", cartography_api.TeamListView.as_view(), name="team-list"),
    path("planning/", include("cartography.planning.api_urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", docs_policy(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path("api/redoc/", docs_policy(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    # The language comes from the visitor's choice (cookie) or browser (Accept-Language), for pages
    # and API alike; URLs carry no language prefix.
    path("i18n/", include("django.conf.urls.i18n")),
    # Failed logins lock out (django-axes); many usernames tried from one address are throttled.
    path("admin/login/", page_throttle("login")(admin.site.login)),
    path("admin/", admin.site.urls),
    # Django logs out by POST only (a link could be followed by a prefetch or a third party).
    path("deconnexion/", LogoutView.as_view(next_page="home"), name="logout"),
    path("donnees/", include("signalements.opendata.urls")),
    path("open311/v2/", include("signalements.open311.urls")),
    path("", include("cartography.publicmap.urls")),  # the home page is the public map
    path("", include("cartography.planning.urls")),
    path("", include("signalements.urls")),
]
handler403 = "signalements.views.permission_denied"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
