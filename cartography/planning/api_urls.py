from django.urls import path

from . import api

urlpatterns = [
    path("volumes/", api.VolumeListView.as_view(), name="planning-api-volumes"),
    path("hotspots/", api.HotspotListView.as_view(), name="planning-api-hotspots"),
    path("recurring-places/", api.RecurringPlaceListView.as_view(), name="planning-api-recurring"),
    path("clusters/", api.ClusterListView.as_view(), name="planning-api-clusters"),
    path("runs/", api.RunListView.as_view(), name="planning-api-runs"),
]
