"""Writing the exports: streamed row by row (GeoJSON, CSV), or in chunks to a file (GeoPackage,
the daily dump). Memory stays flat whatever the number of reports."""

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from .selectors import (
    CHUNK_ROWS,
    EXPORT_FIELDS,
    PROPERTY_NAMES,
    SUMMARY_FIELDS,
    district_monthly_summary,
    export_features,
    export_rows,
    export_rows_wkb,
)

FLUSH_ROWS = 500  # rows joined per chunk sent: fewer, larger writes to the socket
GPKG_LAYER = "signalements"

# The daily dump's files, by the name of their stable URL.
DUMP_FILES = {
    "geojson": "signalements.geojson",
    "csv": "signalements.csv",
    "gpkg": "signalements.gpkg",
    "summary": "signalements-quartiers-mois.csv",
}


def licence() -> dict:
    return {
        "name": settings.OPENDATA_LICENCE_NAME,
        "url": settings.OPENDATA_LICENCE_URL,
        "publisher": settings.OPENDATA_PUBLISHER,
    }


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def geojson_stream(params=None, *, generated_at: datetime | None = None) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (RFC 7946, WGS84), with the licence as a foreign member."""
    head = {
        "type": "FeatureCollection",
        "licence": licence(),
        "generated_at": (generated_at or timezone.now()).isoformat(),
    }
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n').encode()
    batch: list[str] = []
    first = True
    for feature in export_features(params):
        batch.append(feature)
        if len(batch) >= FLUSH_ROWS:
            yield (("" if first else ",\n") + ",\n".join(batch)).encode()
            first, batch = False, []
    if batch:
        yield (("" if first else ",\n") + ",\n".join(batch)).encode()
    yield b"\n]}\n"


class _Line:
    """csv.writer's file: hands back what was written."""

    def write(self, value: str) -> str:
        return value


def csv_stream(params=None) -> Iterator[bytes]:
    """A CSV of the public fields, UTF-8, comma-separated, one header line; the point as
    longitude and latitude."""
    writer = csv.writer(_Line())
    yield writer.writerow([field.name for field in EXPORT_FIELDS]).encode()
    batch: list[str] = []
    for row in export_rows(params):
        batch.append(writer.writerow([_text(value) for value in row]))
        if len(batch) >= FLUSH_ROWS:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()


def summary_csv(params=None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([field.name for field in SUMMARY_FIELDS])
    for row in district_monthly_summary(params):
        writer.writerow(
            [
                row["territory__slug"],
                row["district__code"] or "",
                row["district__name"] or "",
                row["month"].strftime("%Y-%m"),
                row["reports"],
                row["open"],
                row["resolved"],
                row["rejected"],
                row["duplicate"],
            ]
        )
    return buffer.getvalue()


def _gpkg_chunk(rows: list[tuple]) -> tuple[np.ndarray, list[np.ndarray]]:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(PROPERTY_NAMES) + 1)]
    geometry = np.array([bytes(value) for value in columns[-1]], dtype=object)
    data = []
    for name, values in zip(PROPERTY_NAMES, columns[:-1], strict=True):
        if name == "support_count":
            data.append(np.array(values, dtype=np.int64))
        elif name == "status_open":
            data.append(np.array(values, dtype=bool))
        else:
            data.append(np.array([None if v is None else _text(v) for v in values], dtype=object))
    return geometry, data


def gpkg_write(path: Path, params=None) -> int:
    """Write the export as a GeoPackage layer at `path`, CHUNK_ROWS at a time (pyogrio appends
    each chunk). Returns the number of reports written."""
    import pyogrio.raw

    count, batch, append = 0, [], False

    def flush(rows: list[tuple]) -> None:
        nonlocal append
        geometry, data = _gpkg_chunk(rows)
        pyogrio.raw.write(
            str(path),
            geometry,
            data,
            list(PROPERTY_NAMES),
            layer=GPKG_LAYER,
            driver="GPKG",
            geometry_type="Point",
            crs="EPSG:4326",
            encoding="UTF-8",
            append=append,
            layer_metadata=None if append else {"licence": settings.OPENDATA_LICENCE_NAME},
        )
        append = True

    for row in export_rows_wkb(params):
        batch.append(row)
        count += 1
        if len(batch) >= CHUNK_ROWS:
            flush(batch)
            batch = []
    if batch or not append:
        flush(batch)
    return count


def gpkg_temporary(params=None) -> io.BufferedReader:
    """The GeoPackage of `params` in a temporary file, open for reading and already unlinked: the
    space is freed when the response closes it."""
    directory = tempfile.mkdtemp(prefix="opendata-")
    path = Path(directory) / "signalements.gpkg"
    try:
        gpkg_write(path, params)
        handle = path.open("rb")
    finally:
        for leftover in Path(directory).iterdir():
            leftover.unlink()
        os.rmdir(directory)
    return handle


def _write_stream(path: Path, chunks: Iterable[bytes]) -> None:
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


@dataclass(frozen=True)
class DumpFile:
    path: Path
    modified: datetime
    etag: str


def dump_directory() -> Path:
    return Path(settings.OPENDATA_DUMP_DIR)


def opendata_dump_write() -> dict[str, Path]:
    """Write the full exports into the dump directory. Each file is written beside its final name
    and moved over it in one step: a harvester never reads half a file."""
    directory = dump_directory()
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for key, name in DUMP_FILES.items():
        final = directory / name
        partial = directory / f".{name}.partial"
        partial.unlink(missing_ok=True)
        if key == "geojson":
            _write_stream(partial, geojson_stream())
        elif key == "csv":
            _write_stream(partial, csv_stream())
        elif key == "summary":
            partial.write_text(summary_csv(), encoding="utf-8")
        else:
            gpkg_write(partial)
        os.replace(partial, final)
        written[key] = final
    return written


def dump_file(key: str) -> DumpFile | None:
    """The latest dump file named `key` (DUMP_FILES), with its date and validator; None before the
    first dump."""
    name = DUMP_FILES.get(key)
    if name is None:
        return None
    path = dump_directory() / name
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    modified = datetime.fromtimestamp(stat.st_mtime, tz=timezone.get_fixed_timezone(0))
    tag = hashlib.sha256(f"{name}:{stat.st_mtime_ns}:{stat.st_size}".encode()).hexdigest()[:32]
    return DumpFile(path=path, modified=modified, etag=f'"{tag}"')
