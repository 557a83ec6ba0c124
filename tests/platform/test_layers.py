"""The import contracts of pyproject.toml (import-linter): layers, no cycle, cartography's core
independent of signalements. A new import that breaks one fails here, naming it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


COMMAND = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_every_import_contract_is_kept():
    result = lint_imports("--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_broken_contract_is_reported(tmp_path):
    """The same kind of contract on two small packages, one importing the other: it fails, naming
    the import (so the suite's check above can fail too)."""
    for package, body in (("places", "from reports import models  # noqa: F401\n"), ("reports", "")):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "models.py").write_text(body)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["places", "reports"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "probe"\ntype = "forbidden"\n'
        'source_modules = ["places"]\nforbidden_modules = ["reports"]\n'
    )
    result = lint_imports("--no-cache", cwd=tmp_path)
    assert result.returncode != 0
    assert "places.models -> reports.models" in result.stdout, result.stdout + result.stderr
