"""The districts' outlines stored per tile for the map's low zooms (cartography.publicmap.outlines):
the same as clipping them at each request, and kept by the districts' triggers whatever writes them."""

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection

from cartography.models import District
from cartography.publicmap.outlines import OUTLINED_ZOOMS
from cartography.publicmap.selectors import (
    _DISTRICT_SHARES,
    _DISTRICTS_CLIPPED,
    _DISTRICTS_STORED,
    CELLS_FROM,
    WORLD,
)
from tests.publicmap.test_publicmap import decoded, features, tile_of

pytestmark = pytest.mark.django_db

# A square of about 700 m in Sart-Tilman, in the south of Liège, far from the centre's districts.
SQUARE = MultiPolygon(Polygon.from_bbox((5.575, 50.575, 5.585, 50.581)), srid=4326)


@pytest.fixture(autouse=True)
def fresh_at_once(settings):
    settings.PUBLIC_MAP_FRESHNESS_SECONDS = 0


def districts_layer(sql: str, z: int, x: int, y: int) -> list[tuple[int, str]]:
    """The districts of one tile by `sql` (one of the selectors' layers), without counts."""
    params = {"z": z, "x": x, "y": y, "extent": 4096, "buffer": 64, "with_counts": False}
    params |= {"district_ids": [], "district_counts": [], "district_shares": []}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(({sql.format(shares=_DISTRICT_SHARES)}), ''::bytea)", params)
        tile = mapbox_vector_tile.decode(bytes(cursor.fetchone()[0]))
    return sorted((f["properties"]["id"], repr(f["geometry"])) for f in features(tile, "districts"))


def territory_tiles(z: int):
    """The tiles of zoom z over the box of every district."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM"
            " (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom), 4326), 3857) AS b FROM cartography_district) e"
        )
        west, south, east, north = cursor.fetchone()
    size = 2 * WORLD / 2**z
    for x in range(int((west + WORLD) // size), int((east + WORLD) // size) + 1):
        for y in range(int((WORLD - north) // size), int((WORLD - south) // size) + 1):
            yield z, x, y


def test_stored_outlines_are_those_clipped_at_the_request_on_every_low_zoom_tile(liege):
    assert list(OUTLINED_ZOOMS) == list(range(CELLS_FROM))
    tiles = [tile for z in OUTLINED_ZOOMS for tile in territory_tiles(z)]
    assert len(tiles) >= 13
    drawn = 0
    for tile in tiles:
        stored = districts_layer(_DISTRICTS_STORED, *tile)
        assert stored == districts_layer(_DISTRICTS_CLIPPED, *tile), tile
        drawn += len(stored)
    # Liège's 12 districts at zooms 5 to 12, whole or in parts.
    assert drawn >= 12 * 8


def outline_ids(z: int, x: int, y: int) -> set[int]:
    """The districts stored for a tile, of any layer."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT district_id FROM publicmap_district_outline WHERE z = %s AND x = %s AND y = %s", [z, x, y]
        )
        return {row[0] for row in cursor.fetchall()}


def test_a_district_added_moved_or_removed_changes_the_next_low_zoom_tile(client, liege):
    square = tile_of(5.58, 50.578, 12)
    added = District.objects.create(
        territory=liege, layer="districts", name="Carré", code="CARRE", geom=SQUARE
    )
    assert added.pk in outline_ids(*square)
    tile = decoded(client, *square)
    (drawn,) = [f for f in features(tile, "districts") if f["properties"]["id"] == added.pk]
    assert drawn["properties"]["name"] == "Carré" and drawn["properties"]["count"] == 0

    # Moved by raw SQL (an UPDATE of the table, as a boundary import would): drawn where it is now.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cartography_district SET geom = ST_Translate(geom, -0.1, 0.1) WHERE id = %s", [added.pk]
        )
    moved = tile_of(5.48, 50.678, 12)
    assert moved != square
    assert added.pk not in outline_ids(*square) and added.pk in outline_ids(*moved)
    assert added.pk in {f["properties"]["id"] for f in features(decoded(client, *moved), "districts")}

    # Renamed only: the outlines stay, the tile reads the name from the district.
    District.objects.filter(pk=added.pk).update(name="Carré renommé")
    names = {f["properties"]["name"] for f in features(decoded(client, *moved), "districts")}
    assert "Carré renommé" in names

    District.objects.filter(pk=added.pk).delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM publicmap_district_outline WHERE district_id = %s", [added.pk])
        assert cursor.fetchone()[0] == 0


def test_a_district_of_another_layer_is_stored_but_not_drawn(client, liege):
    other = District.objects.create(
        territory=liege, layer="sectors", name="Secteur", code="S-CARRE", geom=SQUARE
    )
    square = tile_of(5.58, 50.578, 12)
    assert other.pk in outline_ids(*square)
    assert other.pk not in {f["properties"]["id"] for f in features(decoded(client, *square), "districts")}


def test_the_outlines_are_made_without_jit(db):
    """Its series of tiles are costed at a thousand rows each: with JIT, each district added would
    spend a fifth of a second compiling (a boundary import adds hundreds)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT proconfig FROM pg_proc WHERE proname = 'publicmap_district_outlines'")
        assert "jit=off" in cursor.fetchone()[0]


def test_emptying_the_districts_empties_their_outlines(liege):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM publicmap_district_outline")
        assert cursor.fetchone()[0] > 0
        cursor.execute("TRUNCATE cartography_district CASCADE")
        cursor.execute("SELECT count(*) FROM publicmap_district_outline")
        assert cursor.fetchone()[0] == 0
