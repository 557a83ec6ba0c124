from django.urls import path

from . import views
from .exports import LAYERS, TABLES

urlpatterns = [
    path("planification/", views.planning, name="planning"),
    path("planification/rapport.html", views.report, name="planning-report"),
    *(
        path(f"planification/{table}.csv", views.table_csv, {"table": table}, name=f"planning-csv-{table}")
        for table in TABLES
    ),
    *(
        path(
            f"planification/{layer}.geojson",
            views.layer_geojson,
            {"layer": layer},
            name=f"planning-geojson-{layer}",
        )
        for layer in LAYERS
    ),
]
