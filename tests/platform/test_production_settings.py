"""Production settings fail closed and pass Django's deployment checks; pages carry a strict CSP."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """manage.py in a fresh interpreter, with the environment of a server where nothing says which
    settings to use: no DJANGO_SETTINGS_MODULE, no secret, unless given."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_settings_module_production_refuses_to_start_without_a_secret():
    result = manage("check")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_refuses_debug():
    result = manage("check", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_DEBUG="true")
    assert result.returncode != 0
    assert "DJANGO_DEBUG is true under production settings" in result.stderr


def test_development_is_asked_for_explicitly_and_starts_without_a_secret():
    result = manage("check", DJANGO_SETTINGS_MODULE="config.settings.development")
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="signalements.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


TEMPLATE_DIRS = [ROOT / "templates", ROOT / "signalements" / "templates", ROOT / "cartography" / "templates"]


def test_no_template_has_an_inline_script_or_style():
    """The policy allows only this site's files: an inline script or style would be blocked.
    json_script data blocks are not scripts (the browser does not run them)."""
    inline = []
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text()
            for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=\"", r"\son[a-z]+=\""):
                inline += [f"{template.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert inline == []


@pytest.mark.django_db
def test_pages_send_a_content_security_policy_with_the_tile_host(client, liege):
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "https://tile.openstreetmap.org" in directives["img-src"].split()


@pytest.mark.django_db
def test_only_the_api_documentation_allows_inline_styles(client):
    docs = client.get("/api/docs/")
    assert "'unsafe-inline'" in docs.headers["Content-Security-Policy"]
    assert "<script>" not in docs.content.decode(), "Swagger's start-up script is a file"
    assert client.get("/api/docs/?script").status_code == 200
    assert "'unsafe-inline'" not in client.get("/api/v1/categories/").headers["Content-Security-Policy"]
