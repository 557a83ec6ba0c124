"""import_territory, import_districts and import_reports on the real files of three cities."""

import csv
import io
import json
from pathlib import Path

import geopandas
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from cartography.models import District, Territory
from signalements.models import Signalement, StatusChange

DATA = Path(settings.BASE_DIR) / "fixtures" / "data"
PARIS_MAPPING = Path(settings.BASE_DIR) / "fixtures" / "paris" / "dansmarue_mapping.json"


def run(*args, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def paris(db) -> Territory:
    run("import_territory", str(DATA / "paris_commune.geojson"), slug="paris", name="Paris", code="75056")
    run(
        "import_districts",
        str(DATA / "paris_arrondissements.geojson"),
        territory="paris",
        name_field="l_aroff",
        code_field="c_arinsee",
    )
    return Territory.objects.get(slug="paris")


@pytest.fixture
def kortrijk(db) -> Territory:
    run("import_territory", str(DATA / "kortrijk_gemeente.geojson"), slug="kortrijk", name="Kortrijk")
    return Territory.objects.get(slug="kortrijk")


def test_paris_boundaries_make_a_second_city(paris):
    run(
        "import_districts",
        str(DATA / "paris_quartiers_administratifs.geojson"),
        territory="paris",
        name_field="l_qu",
        code_field="c_quinsee",
        layer="quartiers",
    )

    assert District.objects.filter(territory=paris, layer="districts").count() == 20
    assert District.objects.filter(territory=paris, layer="quartiers").count() == 80
    assert set(
        District.objects.filter(territory=paris, geom__contains="POINT(2.3522 48.8566)").values_list(
            "name", flat=True
        )
    ) == {"Hôtel-de-Ville", "Saint-Merri"}


def test_kortrijk_wijken_from_a_shapefile(kortrijk, tmp_path):
    shapefile = tmp_path / "wijken.shp"
    geopandas.read_file(DATA / "kortrijk_wijken.geojson").to_crs(31370).to_file(
        shapefile
    )  # Belgian Lambert 72

    out, _ = run(
        "import_districts", str(shapefile), territory="kortrijk", name_field="naam", code_field="geoitem"
    )

    assert "14 created" in out
    wijken = District.objects.filter(territory=kortrijk)
    assert wijken.count() == 14
    assert all(d.geom.geom_type == "MultiPolygon" and d.geom.srid == 4326 for d in wijken)
    # Reprojected back from Lambert 72: the Grote Markt of Kortrijk is in Kortrijk Centrum.
    assert wijken.get(geom__contains="POINT(3.2650 50.8280)").name == "Kortrijk Centrum (Kortrijk)"


def test_a_reimport_updates_boundaries_in_place(kortrijk):
    args = (str(DATA / "kortrijk_deelgemeenten.geojson"),)
    run("import_districts", *args, territory="kortrijk", name_field="naam", code_field="geoitem")
    ids = set(District.objects.values_list("pk", flat=True))

    out, _ = run("import_districts", *args, territory="kortrijk", name_field="naam", code_field="geoitem")

    assert "0 created, 8 updated" in out
    assert set(District.objects.values_list("pk", flat=True)) == ids


def _write_geojson(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _square(x: float, y: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]],
    }


def test_bad_features_are_reported_by_row_and_nothing_is_loaded(kortrijk, tmp_path):
    path = _write_geojson(
        tmp_path / "bad.geojson",
        [
            {
                "type": "Feature",
                "properties": {"naam": "Good", "code": "G"},
                "geometry": _square(3.26, 50.82),
            },
            {
                "type": "Feature",
                "properties": {"naam": "A line", "code": "L"},
                "geometry": {"type": "LineString", "coordinates": [[3.2, 50.8], [3.3, 50.9]]},
            },
            {"type": "Feature", "properties": {"naam": "", "code": "E"}, "geometry": _square(3.27, 50.82)},
            {
                "type": "Feature",
                "properties": {"naam": "Bow tie", "code": "B"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[3.2, 50.8], [3.3, 50.9], [3.3, 50.8], [3.2, 50.9], [3.2, 50.8]]],
                },
            },
            {"type": "Feature", "properties": {"naam": "No geometry", "code": "N"}, "geometry": None},
            {
                "type": "Feature",
                "properties": {"naam": "Twin", "code": "G"},
                "geometry": _square(3.28, 50.82),
            },
        ],
    )
    before = District.objects.count()

    with pytest.raises(CommandError, match="5 bad feature"):
        run("import_districts", str(path), territory="kortrijk", name_field="naam", code_field="code")

    assert District.objects.count() == before
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_districts",
        str(path),
        territory="kortrijk",
        name_field="naam",
        code_field="code",
        skip_invalid=True,
        stdout=out,
        stderr=err,
    )
    errors = err.getvalue()
    assert "feature 2: geometry is LineString" in errors
    assert "feature 3: empty 'naam'" in errors
    assert "feature 4: invalid geometry" in errors
    assert "feature 5: no geometry" in errors
    assert "feature 6: code 'G' already used by feature 1" in errors
    assert list(District.objects.filter(territory=kortrijk).values_list("name", flat=True)) == ["Good"]


def test_unknown_file_field_or_territory_gets_a_clear_message(kortrijk, tmp_path):
    with pytest.raises(CommandError, match="no field 'nom'.*naam"):
        run("import_districts", str(DATA / "kortrijk_wijken.geojson"), territory="kortrijk", name_field="nom")
    with pytest.raises(CommandError, match="no territory 'gent'"):
        run("import_districts", str(DATA / "kortrijk_wijken.geojson"), territory="gent", name_field="naam")
    with pytest.raises(CommandError, match="GDAL cannot open"):
        run("import_districts", str(tmp_path / "missing.geojson"), territory="kortrijk", name_field="naam")


def test_polygons_are_promoted_to_multipolygons(db):
    run(
        "import_territory",
        str(DATA / "villeurbanne_commune.geojson"),
        slug="villeurbanne",
        name="Villeurbanne",
    )

    assert Territory.objects.get(slug="villeurbanne").geom.geom_type == "MultiPolygon"


def test_the_real_dansmarue_file_loads_with_its_categories_and_channels(paris):
    out, err = run(
        "import_reports", str(DATA / "paris_dansmarue_2023-07_2024-09.csv.gz"), mapping=str(PARIS_MAPPING)
    )

    assert "39515 report(s) loaded, 0 already present, 0 rejected" in out
    reports = Signalement.objects.filter(territory=paris)
    assert reports.count() == 39515
    assert reports.filter(district__isnull=True).count() == 0
    assert reports.filter(category__slug="depot-sauvage").count() > 10000
    assert reports.filter(category__slug="feuilles-mortes").exists()
    first = reports.get(external_id="A2023G041622")
    assert first.category.slug == "depot-sauvage"
    assert first.channel == "app"
    assert first.address == "26 Rue de la Lune, 75002 PARIS"
    assert first.district.code == "75102"
    assert first.created_at.date().isoformat() == "2023-07-17"
    # One history row: it arrived closed (no replayed history that statistics would count).
    assert list(StatusChange.objects.filter(signalement=first).values_list("from_status", "to_status")) == [
        ("", "closed")
    ]

    again, _ = run(
        "import_reports", str(DATA / "paris_dansmarue_2023-07_2024-09.csv.gz"), mapping=str(PARIS_MAPPING)
    )
    assert "0 report(s) loaded, 39515 already present" in again
    assert reports.count() == 39515


def test_rows_that_do_not_fit_are_counted_and_listed(paris, tmp_path):
    header = "id_dmr,datedecl,type,soustype,adresse,prefixe,lon,lat\n"
    rows = [
        "OK1,2024-01-02,Propreté,Déchets,1 rue X,Android,2.3522,48.8566",
        "BAD-TYPE,2024-01-02,Stationnement,Voiture,1 rue X,Android,2.3522,48.8566",
        "OUTSIDE,2024-01-02,Propreté,Déchets,Versailles,Android,2.1301,48.8049",
        "BAD-COORD,2024-01-02,Propreté,Déchets,1 rue X,Android,abc,48.8566",
        "BAD-DATE,02/01/2024,Propreté,Déchets,1 rue X,Android,2.3522,48.8566",
        "OK2,2024-01-03,Eau,Fuite,2 rue Y,Page DMR Paris.fr,2.3400,48.8600",
    ]
    path = tmp_path / "reports.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"

    out, err = run("import_reports", str(path), mapping=str(PARIS_MAPPING), rejects=str(rejects))

    assert "2 report(s) loaded, 0 already present, 4 rejected (1 outside the territory)" in out
    assert "row 2: unknown type 'Stationnement'" in err
    assert "row 3: point outside every territory" in err
    assert "row 4: coordinates are not numbers" in err
    assert "row 5: unreadable date '02/01/2024'" in err
    with rejects.open(encoding="utf-8") as handle:
        assert [row["row"] for row in csv.DictReader(handle)] == ["2", "3", "4", "5"]
    assert set(Signalement.objects.values_list("external_id", flat=True)) >= {"OK1", "OK2"}
    assert Signalement.objects.get(external_id="OK2").channel == "web"


def test_geojson_reports_load_too(paris):
    out, _ = run(
        "import_reports", str(DATA / "paris_dansmarue_sample_1000.geojson"), mapping=str(PARIS_MAPPING)
    )

    assert "1000 report(s) loaded" in out


def test_a_mapping_naming_an_unknown_category_is_refused_before_loading(paris, tmp_path):
    mapping = json.loads(PARIS_MAPPING.read_text(encoding="utf-8"))
    mapping["categories"]["Eau"] = "no-such-category"
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")

    with pytest.raises(CommandError, match="no-such-category"):
        run("import_reports", str(DATA / "paris_dansmarue_sample_1000.geojson"), mapping=str(path))
    assert not Signalement.objects.filter(territory=paris).exists()


@pytest.mark.django_db(transaction=True)
def test_the_command_run_outside_a_transaction_loads_on_two_connections(liege, paris, caplog):
    """As `manage.py import_reports` runs: the helper connection locates date ranges of the file
    while the command's connection inserts them (signalements.bulk.pipeline)."""
    path = str(DATA / "paris_dansmarue_2023-07_2024-09.csv.gz")
    with caplog.at_level("INFO", logger="signalements.bulk.pipeline"):
        out, _ = run("import_reports", path, mapping=str(PARIS_MAPPING))

    assert "39515 report(s) loaded, 0 already present, 0 rejected" in out
    assert "located 5 range(s)" in caplog.text  # 6,250, 7,812, 9,765, 12,206, then the 3,482 latest
    reports = Signalement.objects.filter(territory=paris)
    assert reports.count() == 39515 and not reports.filter(district__isnull=True).exists()
    assert reports.get(external_id="A2023G041622").district.code == "75102"
    dates = list(reports.order_by("id").values_list("created_at", flat=True))
    assert dates == sorted(dates)

    again, _ = run("import_reports", path, mapping=str(PARIS_MAPPING))
    assert "0 report(s) loaded, 39515 already present" in again


def test_a_population_field_gives_each_district_its_residents(kortrijk, tmp_path):
    features = [
        {"type": "Feature", "properties": {"naam": "A", "inw": 12000}, "geometry": _square(3.26, 50.82)},
        {"type": "Feature", "properties": {"naam": "B", "inw": "850"}, "geometry": _square(3.27, 50.82)},
        {"type": "Feature", "properties": {"naam": "C", "inw": None}, "geometry": _square(3.28, 50.82)},
    ]
    path = _write_geojson(tmp_path / "wijken.geojson", features)

    run("import_districts", str(path), territory="kortrijk", name_field="naam", population_field="inw")

    populations = dict(District.objects.filter(territory=kortrijk).values_list("name", "population"))
    assert populations == {"A": 12000, "B": 850, "C": None}
    # A re-import without the field keeps the residents already loaded.
    run("import_districts", str(path), territory="kortrijk", name_field="naam")
    assert District.objects.get(territory=kortrijk, name="A").population == 12000


def test_a_layer_name_is_kept_for_the_planners(kortrijk, tmp_path):
    features = [{"type": "Feature", "properties": {"naam": "A"}, "geometry": _square(3.26, 50.82)}]
    path = _write_geojson(tmp_path / "wijken.geojson", features)

    run(
        "import_districts",
        str(path),
        territory="kortrijk",
        name_field="naam",
        layer="wijken",
        layer_name="Wijken",
    )
    kortrijk.refresh_from_db()
    assert kortrijk.layer_name("wijken") == "Wijken"
    # A re-import without a name keeps it; a layer without one is shown by its key.
    run("import_districts", str(path), territory="kortrijk", name_field="naam", layer="wijken")
    kortrijk.refresh_from_db()
    assert kortrijk.layer_names == {"wijken": "Wijken"}
    assert kortrijk.layer_name("deelgemeenten") == "deelgemeenten"


def test_a_bad_population_is_reported_by_row(kortrijk, tmp_path):
    features = [
        {"type": "Feature", "properties": {"naam": "A", "inw": "many"}, "geometry": _square(3.26, 50.82)},
        {"type": "Feature", "properties": {"naam": "B", "inw": -3}, "geometry": _square(3.27, 50.82)},
    ]
    path = _write_geojson(tmp_path / "wijken.geojson", features)

    with pytest.raises(CommandError, match="2 bad feature"):
        run("import_districts", str(path), territory="kortrijk", name_field="naam", population_field="inw")
    with pytest.raises(CommandError, match="no field 'inwoners'"):
        run(
            "import_districts",
            str(path),
            territory="kortrijk",
            name_field="naam",
            population_field="inwoners",
        )
    assert not District.objects.filter(territory=kortrijk).exists()
