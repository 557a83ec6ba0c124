"""The planners' notebooks run top to bottom, in a Jupyter kernel of their own, on the test database
(committed data: the kernel is another connection), and compute what they say from it."""

import json
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
from django.db import connection
from nbclient import NotebookClient

from signalements.models import Category
from tests.factories import SignalementFactory
from tests.planning_data import planning_data_create

pytestmark = pytest.mark.django_db(transaction=True)
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _database_url() -> str:
    """The URL of the test database, which the notebook reads through DATABASE_URL like manage.py."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgis://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _run(name: str, monkeypatch) -> dict:
    monkeypatch.setenv("DATABASE_URL", _database_url())
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.test")
    monkeypatch.setenv("PLANNING_CATEGORY", "feuilles-mortes")
    monkeypatch.setenv("PLANNING_SEASON", "autumn")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "committed with outputs"
    )
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    return json.loads(printed)


@pytest.fixture
def autumns(liege):
    """Planning tables as their jobs write them, and dead-leaf reports in three autumns, starting in
    week 41 (9 October 2023 and 7 October 2024) with a peak in November."""
    data = planning_data_create(liege)
    leaves = Category.objects.get(slug="feuilles-mortes")
    for year, first in ((2023, 9), (2024, 7)):
        for day, n in ((first, 2), (first + 14, 5), (first + 30, 8)):
            month, day = (10, day) if day <= 31 else (11, day - 31)
            for hour in range(n):
                SignalementFactory(
                    category=leaves, created_at=datetime(year, month, day, 8 + hour, tzinfo=UTC)
                )
    return data


@pytest.mark.parametrize("name", ["hotspots_by_neighbourhood.ipynb", "seasonal_recurrence.ipynb"])
def test_the_notebooks_are_committed_without_outputs(name):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_hotspots_by_neighbourhood_runs_and_ranks_the_neighbourhoods(autumns, monkeypatch):
    summary = _run("hotspots_by_neighbourhood.ipynb", monkeypatch)

    n = len(autumns.districts)
    assert summary["neighbourhoods"] == n
    assert summary["reports_in_latest_season"] == sum(10 * (i + 1) for i in range(n))
    assert summary["highest_rate"][0] == autumns.districts[-1].name  # the largest count, by construction
    assert summary["hotspot_cells_drawn"] == 3


def test_seasonal_recurrence_runs_and_gives_the_calendar_and_the_season_starts(autumns, monkeypatch):
    summary = _run("seasonal_recurrence.ipynb", monkeypatch)

    assert summary["recurring_places"] == 2
    assert summary["start_week_of_first_neighbourhood"] == 40  # rank 1's window starts in week 40
    assert summary["season_start_week_in_reports"] == {"2023": 41, "2024": 41}
