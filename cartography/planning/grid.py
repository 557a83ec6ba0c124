"""The square grid the hotspot and recurrence analyses count on: cells of `size_m` metres in the
project's metric SRID (settings.METRIC_SRID), named by column and row. One definition, in SQL for the
counts and in Python for the cells' outlines, so both analyses and every map agree on a cell."""

from django.conf import settings
from django.contrib.gis.geos import Polygon

DEFAULT_CELL_SIZE_M = 100


def cell_columns_sql(metric_point: str, size_m: int) -> tuple[str, str]:
    """SQL for the column and row of the cell holding `metric_point` (an expression in METRIC_SRID)."""
    size = int(size_m)
    return (f"floor(ST_X({metric_point}) / {size})::int", f"floor(ST_Y({metric_point}) / {size})::int")


def cell_outline_sql(column: str, row: str, size_m: int) -> str:
    """SQL for the outline of cell (`column`, `row`) in SRID 4326."""
    size = int(size_m)
    return (
        f"ST_Transform(ST_MakeEnvelope({column} * {size}, {row} * {size}, "
        f"({column} + 1) * {size}, ({row} + 1) * {size}, {int(settings.METRIC_SRID)}), 4326)"
    )


def cell_outline(column: int, row: int, size_m: int) -> Polygon:
    """The outline of one cell in SRID 4326, as GEOS computes it (same corners as the SQL)."""
    x0, y0 = column * size_m, row * size_m
    outline = Polygon.from_bbox((x0, y0, x0 + size_m, y0 + size_m))
    outline.srid = settings.METRIC_SRID
    outline.transform(4326)
    return outline
