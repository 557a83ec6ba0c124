from django.urls import path

from . import views

urlpatterns = [
    path("", views.opendata_page, name="opendata"),
    path("dictionnaire/", views.dictionary_page, name="opendata-dictionary"),
    path("export/signalements.geojson", views.export_geojson, name="opendata-geojson"),
    path("export/signalements.csv", views.export_csv, name="opendata-csv"),
    path("export/signalements.gpkg", views.export_gpkg, name="opendata-gpkg"),
    path("export/signalements-quartiers-mois.csv", views.export_summary, name="opendata-summary"),
    # Stable addresses of the latest daily dump, for other portals to harvest.
    path(
        "complet/signalements.geojson", views.dump_download, {"key": "geojson"}, name="opendata-dump-geojson"
    ),
    path("complet/signalements.csv", views.dump_download, {"key": "csv"}, name="opendata-dump-csv"),
    path("complet/signalements.gpkg", views.dump_download, {"key": "gpkg"}, name="opendata-dump-gpkg"),
    path(
        "complet/signalements-quartiers-mois.csv",
        views.dump_download,
        {"key": "summary"},
        name="opendata-dump-summary",
    ),
]
