from django.urls import path
from django.views.generic import RedirectView

from . import views

FORMATS = ("json", "xml")

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="open311-discovery-json"), name="open311-root"),
]
for fmt in FORMATS:
    kwargs = {"fmt": fmt}
    urlpatterns += [
        path(f"discovery.{fmt}", views.DiscoveryView.as_view(), kwargs, name=f"open311-discovery-{fmt}"),
        path(f"services.{fmt}", views.ServiceListView.as_view(), kwargs, name=f"open311-services-{fmt}"),
        path(
            f"services/<slug:slug>.{fmt}",
            views.ServiceDefinitionView.as_view(),
            kwargs,
            name=f"open311-service-{fmt}",
        ),
        path(f"requests.{fmt}", views.RequestListView.as_view(), kwargs, name=f"open311-requests-{fmt}"),
        path(
            f"requests/<str:reference>.{fmt}",
            views.RequestDetailView.as_view(),
            kwargs,
            name=f"open311-request-{fmt}",
        ),
        path(f"tokens/<str:token>.{fmt}", views.TokenView.as_view(), kwargs, name=f"open311-token-{fmt}"),
        path(
            f"servicerequestupdates.{fmt}",
            views.RequestUpdatesView.as_view(),
            kwargs,
            name=f"open311-updates-{fmt}",
        ),
    ]
