from django.urls import path

from . import citizen, crew, desk, views

urlpatterns = [
    path("signalements/", views.SignalementListCreateView.as_view(), name="signalement-list"),
    path("signalements/nearby/", citizen.NearbyView.as_view(), name="signalement-nearby"),
    path("signalements/<str:reference>/", views.SignalementDetailView.as_view(), name="signalement-detail"),
    path("signalements/<str:reference>/supports/", citizen.SupportView.as_view(), name="signalement-support"),
    path("tracking/<str:token>/", citizen.TrackingDetailView.as_view(), name="tracking-detail"),
    path("tracking/<str:token>/comments/", citizen.TrackingCommentView.as_view(), name="tracking-comments"),
    path("tracking/<str:token>/photos/", citizen.TrackingPhotoView.as_view(), name="tracking-photos"),
    path(
        "tracking/<str:token>/subscription/",
        citizen.TrackingSubscriptionView.as_view(),
        name="tracking-subscription",
    ),
    path(
        "tracking/<str:token>/satisfaction/",
        citizen.TrackingSatisfactionView.as_view(),
        name="tracking-satisfaction",
    ),
    path("desk/signalements/", desk.DeskListView.as_view(), name="desk-api-list"),
    path("desk/signalements/<str:reference>/", desk.DeskDetailView.as_view(), name="desk-api-detail"),
    path(
        "desk/signalements/<str:reference>/transitions/",
        desk.DeskTransitionView.as_view(),
        name="desk-api-transition",
    ),
    path(
        "desk/signalements/<str:reference>/messages/",
        desk.DeskMessageView.as_view(),
        name="desk-api-messages",
    ),
    path(
        "desk/signalements/<str:reference>/templates/",
        desk.DeskTemplatesView.as_view(),
        name="desk-api-templates",
    ),
    path(
        "desk/signalements/<str:reference>/moderation/",
        desk.DeskModerationView.as_view(),
        name="desk-api-moderation",
    ),
    path("desk/signalements/<str:reference>/merge/", desk.DeskMergeView.as_view(), name="desk-api-merge"),
    path(
        "desk/signalements/<str:reference>/unmerge/", desk.DeskUnmergeView.as_view(), name="desk-api-unmerge"
    ),
    path("crew/<slug:slug>/worklist/", crew.WorkListView.as_view(), name="crew-api-worklist"),
    path(
        "crew/<slug:slug>/signalements/<str:reference>/outcome/",
        crew.OutcomeView.as_view(),
        name="crew-api-outcome",
    ),
    path("categories/", views.CategoryListView.as_view(), name="category-list"),
    path("locate/", citizen.LocateView.as_view(), name="locate"),
    path("geocode/", citizen.GeocodeView.as_view(), name="geocode"),
]
