from django.urls import path

from .crew import views as crew
from .desk import views as desk
from .web import views as web

urlpatterns = [
    path("signaler/", web.report_start, name="report"),
    path("signaler/lieu/", web.LocationStep.as_view(), name="report-location"),
    path("signaler/probleme/", web.ProblemStep.as_view(), name="report-problem"),
    path("signaler/deja-signale/", web.SimilarStep.as_view(), name="report-similar"),
    path("signaler/coordonnees/", web.ContactStep.as_view(), name="report-contact"),
    path("signaler/verifier/", web.ReviewStep.as_view(), name="report-review"),
    path("signaler/envoye/", web.report_done, name="report-done"),
    path("signaler/recommencer/", web.report_restart, name="report-restart"),
    path("signaler/photo/<int:index>/", web.draft_photo, name="report-draft-photo"),
    path("signaler/soutenir/<str:reference>/", web.SupportView.as_view(), name="report-support"),
    path("suivi/<str:token>/", web.TrackingView.as_view(), name="tracking"),
    path("confirmer/<str:token>/", web.EmailConfirmView.as_view(), name="email-confirm"),
    path("signalements/<str:reference>/", web.public_signalement, name="public-signalement"),
    path("equipe/", crew.crew_home, name="crew-home"),
    path("equipe/sw.js", crew.crew_service_worker, name="crew-service-worker"),
    path("equipe/<slug:slug>/", crew.crew_list, name="crew-list"),
    path("equipe/<slug:slug>/<str:reference>/", crew.crew_item, name="crew-item"),
    path("bureau/", desk.queue, name="desk-queue"),
    path("bureau/carte.geojson", desk.queue_geojson, name="desk-queue-geojson"),
    path("bureau/nouveau/", desk.register, name="desk-register"),
    path("bureau/doublons/", desk.duplicates, name="desk-duplicates"),
    path("bureau/statistiques/", desk.statistics, name="desk-statistics"),
    path("bureau/moderation/", desk.moderation, name="desk-moderation"),
    path("bureau/signalements/<str:reference>/", desk.detail, name="desk-detail"),
    path("bureau/signalements/<str:reference>/moderation/", desk.moderate, name="desk-moderate"),
]
