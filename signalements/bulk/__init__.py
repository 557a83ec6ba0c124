"""The bulk loader: many reports at once, located in the database, each with its history, all or
nothing. One entry point, `signalements_bulk_load`; `core` holds the SQL and the load on one
connection, `pipeline` the load on two connections."""

from collections.abc import Iterable

from .core import BulkResult, BulkRow, signalements_bulk_load_in_transaction
from .pipeline import pipeline_usable, signalements_bulk_load_pipelined

__all__ = ["BulkResult", "BulkRow", "signalements_bulk_load"]


def signalements_bulk_load(rows: Iterable[BulkRow], *, source: str) -> BulkResult:
    """Load many reports at once, each with its history, located in the database, all or nothing.

    Rows outside every territory are not stored and are listed in the result; rows whose
    (source, external_id) is already stored are skipped, so a file can be loaded again safely.
    Outside a transaction, the rows are located on a second connection while they are inserted
    (bulk.pipeline); inside one, all is done in it.
    """
    if pipeline_usable():
        return signalements_bulk_load_pipelined(rows, source=source)
    return signalements_bulk_load_in_transaction(rows, source=source)
