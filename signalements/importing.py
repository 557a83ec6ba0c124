"""Reading report files (CSV, optionally gzipped, or GeoJSON) through a column and category mapping."""

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from .bulk import BulkRow
from .models import Category, Channel, Priority, Status


class MappingError(Exception):
    pass


@dataclass(frozen=True)
class Rejected:
    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass
class Mapping:
    source: str
    columns: dict[str, str]
    categories: dict[str, str]
    refine: list[dict] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)
    default_channel: str = Channel.IMPORT
    status: str = Status.NEW
    date_format: str | None = None
    timezone: str = settings.TIME_ZONE

    @classmethod
    def load(cls, path: str | Path) -> "Mapping":
        try:
            with open(path, encoding="utf-8") as handle:
                raw = json.load(handle)
        except (OSError, ValueError) as exc:
            raise MappingError(f"{path}: cannot read the mapping ({exc})") from exc
        missing = {"source", "columns", "categories"} - raw.keys()
        if missing:
            raise MappingError(f"{path}: the mapping lacks {', '.join(sorted(missing))}")
        for needed in ("lon", "lat", "category"):
            if needed not in raw["columns"]:
                raise MappingError(f"{path}: columns.{needed} is required")
        known = {key: raw[key] for key in cls.__dataclass_fields__ if key in raw}
        mapping = cls(**known)
        if mapping.status not in Status.values:
            raise MappingError(f"{path}: unknown status {mapping.status!r}")
        bad_channels = {
            c for c in [*mapping.channels.values(), mapping.default_channel] if c not in Channel.values
        }
        if bad_channels:
            raise MappingError(f"{path}: unknown channel(s) {', '.join(sorted(bad_channels))}")
        return mapping


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _records(path: Path) -> Iterator[dict]:
    """Each record as a dict of strings; for GeoJSON, point coordinates become 'lon' and 'lat'."""
    name = path.name.removesuffix(".gz")
    if name.endswith((".geojson", ".json")):
        with _open_text(path) as handle:
            data = json.load(handle)
        for feature in data.get("features", []):
            record = {k: "" if v is None else str(v) for k, v in (feature.get("properties") or {}).items()}
            geometry = feature.get("geometry") or {}
            if geometry.get("type") == "Point" and len(geometry.get("coordinates", [])) >= 2:
                record.setdefault("lon", str(geometry["coordinates"][0]))
                record.setdefault("lat", str(geometry["coordinates"][1]))
            yield record
    elif name.endswith(".csv"):
        with _open_text(path) as handle:
            sample = handle.read(8192)
            handle.seek(0)
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            yield from csv.DictReader(handle, dialect=dialect)
    else:
        raise MappingError(f"{path}: expected a .csv, .csv.gz, .geojson or .json file")


def read_reports(path: str | Path, mapping: Mapping) -> tuple[list[BulkRow], list[Rejected]]:
    """The rows that can be loaded and, for each other row, its number and the reason (rows are
    numbered from 1, after the CSV header)."""
    path = Path(path)
    categories = dict(Category.objects.values_list("slug", "id"))
    unknown_targets = {
        slug
        for slug in [*mapping.categories.values(), *(r["category"] for r in mapping.refine)]
        if slug not in categories
    }
    if unknown_targets:
        raise MappingError(
            f"the mapping names categories that do not exist: {', '.join(sorted(unknown_targets))}"
        )
    columns = mapping.columns
    zone = ZoneInfo(mapping.timezone)
    rows: list[BulkRow] = []
    rejected: list[Rejected] = []
    for number, record in enumerate(_records(path), start=1):
        if number == 1:
            absent = [col for col in columns.values() if col not in record]
            if absent:
                raise MappingError(f"{path}: no column {', '.join(absent)}; the file has {', '.join(record)}")
        source_category = (record.get(columns["category"]) or "").strip()
        slug = mapping.categories.get(source_category)
        if slug is None:
            rejected.append(Rejected(number, f"unknown type {source_category!r}"))
            continue
        for rule in mapping.refine:
            if (
                rule.get("when_category", slug) == slug
                and rule["contains"].lower() in (record.get(rule["field"]) or "").lower()
            ):
                slug = rule["category"]
                break
        try:
            lon = float(record[columns["lon"]])
            lat = float(record[columns["lat"]])
        except (TypeError, ValueError):
            rejected.append(
                Rejected(
                    number,
                    f"coordinates are not numbers ({record.get(columns['lon'])!r}, "
                    f"{record.get(columns['lat'])!r})",
                )
            )
            continue
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            rejected.append(Rejected(number, f"coordinates out of range ({lon}, {lat})"))
            continue
        created_at = datetime.now(UTC)
        if "created_at" in columns:
            text = (record.get(columns["created_at"]) or "").strip()
            try:
                parsed = (
                    datetime.strptime(text, mapping.date_format)
                    if mapping.date_format
                    else datetime.fromisoformat(text)
                )
            except ValueError:
                rejected.append(Rejected(number, f"unreadable date {text!r}"))
                continue
            # Day-precision dates are taken at noon local time, so the day is right in any time zone.
            if mapping.date_format and "%H" not in mapping.date_format:
                parsed = parsed.replace(hour=12)
            created_at = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        channel = mapping.channels.get(
            (record.get(columns.get("channel", "")) or "").strip(), mapping.default_channel
        )
        external_id = None
        if "external_id" in columns:
            external_id = (record.get(columns["external_id"]) or "").strip() or None
        rows.append(
            BulkRow(
                row=number,
                lon=lon,
                lat=lat,
                category_id=categories[slug],
                created_at=created_at,
                status=mapping.status,
                priority=Priority.NORMAL,
                channel=channel,
                address=(record.get(columns.get("address", "")) or "").strip()[:300],
                description=(record.get(columns.get("description", "")) or "").strip(),
                external_id=external_id,
            )
        )
    return rows, rejected
