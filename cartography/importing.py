"""Reading boundary files (GeoJSON, shapefile, anything GDAL opens) into checked multipolygons."""

from dataclasses import dataclass
from pathlib import Path

from django.contrib.gis.gdal import DataSource, GDALException, OGRGeomType
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon


@dataclass(frozen=True)
class Boundary:
    row: int
    name: str
    code: str
    geom: MultiPolygon
    # Residents, when the file has a population field and this feature a value in it.
    population: int | None = None


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"feature {self.row}: {self.message}"


class BoundaryFileError(Exception):
    pass


def _field(feature, name: str) -> str:
    value = feature.get(name)
    return "" if value is None else str(value).strip()


def _population(feature, name: str) -> int | None:
    """A count of residents: a whole number, 0 or more (12000, "12000" or 12000.0); empty is unknown."""
    text = _field(feature, name).replace(" ", "").replace("\u202f", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"population {text!r} is not a number") from None
    if value < 0 or value != int(value):
        raise ValueError(f"population {text!r} is not a whole number of residents")
    return int(value)


def read_boundaries(
    path: str | Path,
    *,
    name_field: str,
    code_field: str | None = None,
    population_field: str | None = None,
    layer_index: int = 0,
) -> tuple[list[Boundary], list[RowError]]:
    """Every feature of the file as a WGS84 MultiPolygon (polygons are promoted), and the
    features that cannot be used, each with its row number (1-based) and the reason.

    `name_field` may list several fields separated by commas: the first non-empty one names the
    feature (e.g. "tx_sector_descr_fr,tx_sector_descr_nl,cd_sector"). `population_field` names the
    residents of each feature, for the planners' rates per 1,000 residents."""
    name_fields = [field.strip() for field in name_field.split(",") if field.strip()]
    try:
        source = DataSource(str(path))
    except GDALException as exc:
        raise BoundaryFileError(f"{path}: GDAL cannot open this file ({exc})") from exc
    layer = source[layer_index]
    fields = set(layer.fields)
    for wanted in filter(None, [*name_fields, code_field, population_field]):
        if wanted not in fields:
            raise BoundaryFileError(
                f"{path}: no field {wanted!r}; the file has: {', '.join(sorted(fields)) or 'no fields'}"
            )
    boundaries: list[Boundary] = []
    errors: list[RowError] = []
    seen_codes: dict[str, int] = {}
    for row, feature in enumerate(layer, start=1):
        name = next(filter(None, (_field(feature, field) for field in name_fields)), "")
        code = _field(feature, code_field) if code_field else name
        if not name:
            errors.append(RowError(row, f"empty {name_field!r}"))
            continue
        if not code:
            errors.append(RowError(row, f"empty {code_field!r}"))
            continue
        try:
            population = _population(feature, population_field) if population_field else None
        except ValueError as exc:
            errors.append(RowError(row, str(exc)))
            continue
        if code in seen_codes:
            errors.append(RowError(row, f"code {code!r} already used by feature {seen_codes[code]}"))
            continue
        try:
            ogr = feature.geom
        except GDALException:
            ogr = None
        if ogr is None:
            errors.append(RowError(row, "no geometry"))
            continue
        if ogr.geom_type.num not in (OGRGeomType("Polygon").num, OGRGeomType("MultiPolygon").num):
            errors.append(
                RowError(row, f"geometry is {ogr.geom_type.name}, expected Polygon or MultiPolygon")
            )
            continue
        try:
            if ogr.srs is not None and ogr.srs.srid != 4326:
                ogr.transform(4326)
            geom = GEOSGeometry(ogr.wkb, srid=4326)
        except (GDALException, GEOSException) as exc:
            errors.append(RowError(row, f"unreadable geometry ({exc})"))
            continue
        if isinstance(geom, Polygon):
            geom = MultiPolygon(geom, srid=4326)
        if geom.empty:
            errors.append(RowError(row, "empty geometry"))
            continue
        if not geom.valid:
            errors.append(RowError(row, f"invalid geometry: {geom.valid_reason}"))
            continue
        seen_codes[code] = row
        boundaries.append(Boundary(row=row, name=name, code=code, geom=geom, population=population))
    return boundaries, errors
