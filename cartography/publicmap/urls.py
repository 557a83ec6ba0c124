from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("carte/tuiles/<int:z>/<int:x>/<int:y>.pbf", views.tile, name="publicmap-tile"),
    path("carte/liste/", views.signalement_list, name="publicmap-list"),
    path("carte/signalements/<str:reference>/", views.signalement_detail, name="publicmap-detail"),
]
