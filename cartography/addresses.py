"""Reading a city's open address register (Belgium's BeST, France's BAN, or any CSV with a column
mapping) into rows the local geocoder can load. Nothing here writes: see places_import_addresses."""

import csv
import gzip
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

FIELDS = ("street", "number", "postcode", "city", "lon", "lat")
REQUIRED = ("street", "lon", "lat")

# Column names as published. A field may name several columns, "|"-separated: the first one that is
# not empty wins (BeST has the street in French, Dutch and German, filled as the region speaks).
FORMATS: dict[str, dict[str, str]] = {
    # BOSA's BeST "openaddress" CSV (openaddress-bewal.csv, -bevlg, -bebru).
    "best": {
        "street": "streetname_fr|streetname_nl|streetname_de",
        "number": "house_number",
        "postcode": "postcode",
        "city": "postname_fr|postname_nl|municipality_name_fr|municipality_name_nl|municipality_name_de",
        "lon": "EPSG:4326_lon",
        "lat": "EPSG:4326_lat",
    },
    # Base Adresse Nationale, adresses-<département>.csv (semicolon-separated).
    "ban": {
        "street": "nom_voie",
        "number": "numero",
        "postcode": "code_postal",
        "city": "nom_commune",
        "lon": "lon",
        "lat": "lat",
    },
}


class AddressFileError(ValueError):
    pass


@dataclass(frozen=True)
class AddressRow:
    line: int
    street: str
    number: str
    postcode: str
    city: str
    lon: float
    lat: float


def mapping_parse(text: str) -> dict[str, str]:
    """ "street=nom,lon=x,lat=y" -> {"street": "nom", "lon": "x", "lat": "y"}."""
    mapping = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, column = part.partition("=")
        key = key.strip()
        if not sep or not column.strip():
            raise AddressFileError(f"--map: {part!r} is not field=column")
        if key not in FIELDS:
            raise AddressFileError(f"--map: unknown field {key!r} (known: {', '.join(FIELDS)})")
        mapping[key] = column.strip()
    return mapping


@contextmanager
def _open(path: Path) -> Iterator[IO[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        yield handle


def _delimiter(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def _first_filled(record: dict, columns) -> str:
    return next((text for c in columns if (text := (record.get(c) or "").strip())), "")


def addresses_read(path: Path, mapping: dict[str, str], *, max_errors: int = 20) -> Iterator[AddressRow]:
    """The rows of an address CSV. Raises AddressFileError naming the bad rows (by line number) once
    the whole file has been read, so that a caller writing in one transaction writes nothing."""
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise AddressFileError(f"no column given for {', '.join(missing)}")
    with _open(path) as handle:
        delimiter = _delimiter(handle.readline())
        handle.seek(0)
        reader = csv.DictReader(handle, delimiter=delimiter)
        present = set(reader.fieldnames or ())
        columns = {f: mapping[f].split("|") for f in mapping}
        absent = [
            c for alternatives in columns.values() if not present & set(alternatives) for c in alternatives
        ]
        if absent:
            raise AddressFileError(
                f"{path.name}: no column {', '.join(absent)} (columns: {', '.join(reader.fieldnames or ())})"
            )
        errors: list[str] = []
        bad = 0
        for record in reader:
            line = reader.line_num

            field = {f: _first_filled(record, alternatives) for f, alternatives in columns.items()}
            problem = None
            street = field["street"]
            try:
                lon, lat = float(field["lon"].replace(",", ".")), float(field["lat"].replace(",", "."))
            except ValueError:
                lon = lat = math.nan
                problem = f"coordinates {field['lon']!r}, {field['lat']!r} are not numbers"
            if problem is None and not (-180 <= lon <= 180 and -90 <= lat <= 90):
                problem = f"coordinates {lon}, {lat} are not a longitude and a latitude"
            if not street:
                problem = "no street name"
            if problem:
                bad += 1
                if len(errors) < max_errors:
                    errors.append(f"line {line}: {problem}")
                continue
            if not errors:
                yield AddressRow(
                    line=line,
                    street=street,
                    number=field.get("number", ""),
                    postcode=field.get("postcode", ""),
                    city=field.get("city", ""),
                    lon=lon,
                    lat=lat,
                )
        if errors:
            more = f" (and {bad - len(errors)} more)" if bad > len(errors) else ""
            raise AddressFileError(
                f"{path.name}: {bad} bad row(s){more}, nothing loaded:\n" + "\n".join(errors)
            )
