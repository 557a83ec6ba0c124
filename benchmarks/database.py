"""The benchmark database: dropped and created again on every run, never the development one."""

import os
from urllib.parse import urlsplit

import dj_database_url
import psycopg
from psycopg import sql

# BENCH_DATABASE=signalements_bench_x gives parallel runs on one server their own database.
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "signalements_bench")
DEFAULT_URL = "postgis://postgres@127.0.0.1:5432/signalements"


def bench_url() -> str:
    """The server of DATABASE_URL (or the local default), with the benchmark database on it."""
    server = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_URL))
    return server._replace(path=f"/{BENCH_DATABASE}").geturl()


def _connect(url: str, dbname: str) -> psycopg.Connection:
    config = dj_database_url.parse(url)
    return psycopg.connect(
        host=config["HOST"] or None,
        port=config["PORT"] or None,
        user=config["USER"] or None,
        password=config["PASSWORD"] or None,
        dbname=dbname,
        autocommit=True,
    )


def database_recreate(url: str) -> None:
    """Drop the benchmark database (closing its sessions), create it again with PostGIS."""
    name = dj_database_url.parse(url)["NAME"]
    if name != BENCH_DATABASE or not name.startswith("signalements_bench"):
        raise ValueError(f"refusing to recreate {name!r}: only signalements_bench* is for benchmarks")
    with _connect(url, "postgres") as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with _connect(url, name) as connection:
        connection.execute("CREATE EXTENSION postgis")
