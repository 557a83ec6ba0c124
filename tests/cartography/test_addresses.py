"""The local geocoder finds streets whatever the accents, case, apostrophes and hyphens typed, and
shows them with their accents; import_addresses loads an open address register into it."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from cartography.geocoding import LocalGeocoder, house_number_of
from cartography.models import Place

pytestmark = pytest.mark.django_db

BEST_HEADER = (
    "EPSG:31370_x,EPSG:31370_y,EPSG:4326_lat,EPSG:4326_lon,address_id,box_number,house_number,"
    "municipality_id,municipality_name_de,municipality_name_fr,municipality_name_nl,postcode,postname_fr,"
    "postname_nl,street_id,streetname_de,streetname_fr,streetname_nl,region_code,status\n"
)
BAN_HEADER = (
    "id;id_fantoir;numero;rep;nom_voie;code_postal;code_insee;nom_commune;code_insee_ancienne_commune;"
    "nom_ancienne_commune;x;y;lon;lat;type_position;alias;nom_ld;libelle_acheminement;nom_afnor;"
    "source_position;source_nom_voie;certification_commune;cad_parcelles\n"
)


def best_row(street: str, number: str, lon: float, lat: float, postcode="4000", city="Liège") -> str:
    return f',,{lat},{lon},x,,{number},62063,,{city},,{postcode},{city},,s,,"{street}",,BE-WAL,current\n'


def ban_row(street: str, number: str, lon: float, lat: float) -> str:
    return f"a;;{number};;{street};4000;62063;Liège;;;;;{lon};{lat};entrée;;;LIEGE;;;;1;\n"


def labels(query: str) -> list[str]:
    return [r.label for r in LocalGeocoder().search(query, territory="liege")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("boulevard d'Avroy", "Boulevard d'Avroy"),
        ("BOULEVARD D’AVROY", "Boulevard d'Avroy"),
        ("Outremeuse", "Rue Jean d'Outremeuse"),
        ("Guillemins", "Rue des Guillemins"),
        ("guillemins", "Place des Guillemins"),
        ("feronstree", "Féronstrée"),
        ("Vinave d Ile", "Rue Vinâve d'Île"),
        ("place saint lambert", "Place Saint-Lambert"),
        ("rue puits en sock", "Rue Puits-en-Sock"),
    ],
)
def test_the_demo_streets_are_found_and_shown_with_their_accents(query, expected):
    assert expected in labels(query)


def test_an_exact_name_comes_first_and_a_street_before_a_district_of_the_same_name():
    assert labels("Féronstrée")[0] == "Féronstrée"  # the Statbel sector "Feronstree" comes after
    assert labels("Saint-Lambert")[0] == "Saint-Lambert"


def test_a_house_number_finds_the_address_before_the_street():
    assert labels("12 boulevard d'Avroy")[0] == "Boulevard d'Avroy 12"
    assert labels("Boulevard d'Avroy 12, 4000 Liège")[0] == "Boulevard d'Avroy 12"
    assert house_number_of("Rue du 15 Août") == ""


def test_a_street_in_two_merged_municipalities_says_which():
    assert {"Rue de la Station, 4032 Chênée", "Rue de la Station, 4020 Wandre"} <= set(
        labels("rue de la station")
    )


def _import(tmp_path: Path, name: str, text: str, **options) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_addresses", str(path), territory="liege", stdout=out, **options)
    return out.getvalue()


def test_a_best_file_gives_one_place_per_street_and_is_idempotent(tmp_path):
    text = BEST_HEADER + "".join(
        [
            best_row("Rue de l'Essai", "1", 5.5731, 50.6401),
            best_row("Rue de l'Essai", "3", 5.5735, 50.6402),
            best_row("Rue de l'Essai", "5", 5.5739, 50.6403),
            best_row("Quai d'Éprouvette", "2", 5.5801, 50.6421),
            best_row("Rue de Paris", "1", 2.35, 48.85),  # elsewhere: skipped
        ]
    )
    out = _import(tmp_path, "best.csv", text, format="best")
    assert "2 streets and 0 addresses" in out and "1 rows outside" in out
    street = Place.objects.get(territory__slug="liege", name="Rue de l'Essai")
    assert street.kind == Place.Kind.STREET
    assert (street.point.x, street.point.y) == (5.5735, 50.6402)  # the middle address, on the street
    assert labels("rue de l essai")[0] == "Rue de l'Essai"
    before = Place.objects.count()
    _import(tmp_path, "best.csv", text, format="best")
    assert Place.objects.count() == before
    assert not Place.objects.filter(name="Boulevard d'Avroy").exists()  # this register replaced the demo's


def test_a_ban_file_with_house_numbers(tmp_path):
    text = (
        BAN_HEADER
        + ban_row("Rue de la Lune", "26", 5.5731, 50.6401)
        + ban_row("Rue de la Lune", "28", 5.5733, 50.6402)
    )
    out = _import(tmp_path, "adresses-99.csv", text, format="ban", numbers=True)
    assert "1 streets and 2 addresses" in out
    assert labels("26 rue de la lune")[0] == "Rue de la Lune 26"


def test_a_custom_mapping(tmp_path):
    text = "voie|lng|lati\n".replace("|", ";") + "Allée des Tests;5.5731;50.6401\n"
    out = _import(tmp_path, "custom.csv", text, map="street=voie,lon=lng,lat=lati")
    assert "1 streets" in out
    assert labels("allee des tests") == ["Allée des Tests"]


def test_a_bad_row_is_named_and_nothing_is_loaded(tmp_path):
    before = set(Place.objects.values_list("name", flat=True))
    text = BEST_HEADER + best_row("Rue Neuve", "1", 5.5731, 50.6401) + best_row("", "2", 5.5731, 50.6401)
    text += best_row("Rue Fausse", "3", "abc", 50.64)
    with pytest.raises(CommandError) as error:
        _import(tmp_path, "bad.csv", text, format="best")
    message = str(error.value)
    assert "2 bad row(s), nothing loaded" in message
    assert "line 3: no street name" in message
    assert "line 4: coordinates 'abc', '50.64' are not numbers" in message
    assert set(Place.objects.values_list("name", flat=True)) == before


def test_a_missing_column_or_mapping_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no column nom_voie"):
        _import(tmp_path, "x.csv", BEST_HEADER, format="ban")
    with pytest.raises(CommandError, match="no column given for street, lon, lat"):
        _import(tmp_path, "x.csv", BEST_HEADER)
    with pytest.raises(CommandError, match="unknown field 'rue'"):
        _import(tmp_path, "x.csv", BEST_HEADER, map="rue=x")
