#!/usr/bin/env bash
# Install and start everything `make run` and `make test` need, on Debian 12. Safe to run again:
# each step checks first, so a second run takes a few seconds.
#   1. Debian packages (PostGIS, GDAL, gettext, Chromium)   3. .venv with the project; node_modules
#   2. PostgreSQL and Redis running                          4. the database and its postgis extension
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL=${DATABASE_URL:-postgis://postgres@127.0.0.1:5432/signalements}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
PYTHON=${PYTHON:-python3}
VENV=.venv
APT_PACKAGES=(postgresql-15-postgis-3 gdal-bin libgdal32 gettext chromium)

step() { echo "bootstrap: $*"; }
die() { echo "bootstrap: ERROR: $*" >&2; exit 1; }
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "this step needs root (or sudo): $*"; fi
}
is_local() { case "$1" in 127.0.0.1|localhost|::1|/*) return 0;; *) return 1;; esac; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 (or set PYTHON=/path/to/python3.11)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); this project needs Python 3.11 (set PYTHON=python3.11)"

# --- 1. Debian packages ------------------------------------------------------------------------
missing=()
for package in "${APT_PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get: install them by hand (see README)"
    step "installing Debian packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
command -v psql >/dev/null || die "psql not found: install postgresql-client"

# --- 2. Services -------------------------------------------------------------------------------
# Host, port, user, password and database name from the URLs, as shell variables.
eval "$("$PYTHON" - "$DATABASE_URL" "$REDIS_URL" <<'EOF'
import shlex, sys
from urllib.parse import unquote, urlsplit
db, redis = urlsplit(sys.argv[1]), urlsplit(sys.argv[2])
values = {
    "DB_HOST": unquote(db.hostname or "") or "127.0.0.1", "DB_PORT": db.port or 5432,
    "DB_USER": unquote(db.username or "postgres"), "DB_PASSWORD": unquote(db.password or ""),
    "DB_NAME": unquote(db.path.lstrip("/")) or "signalements",
    "REDIS_HOST": redis.hostname or "127.0.0.1", "REDIS_PORT": redis.port or 6379,
}
for name, value in values.items():
    print(f"{name}={shlex.quote(str(value))}")
EOF
)"
[ -n "$DB_PASSWORD" ] && export PGPASSWORD="$DB_PASSWORD"

wait_for() {  # wait_for SECONDS COMMAND...: true as soon as COMMAND succeeds
    local tries=$(( $1 * 2 )); shift
    for _ in $(seq "$tries"); do "$@" && return 0; sleep 0.5; done
    return 1
}
pg_up() { pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; }
redis_up() {  # a PING over bash's /dev/tcp (no redis-cli needed); any reply means Redis is there
    local reply
    { exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT"; } 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    read -r -t 2 reply <&3 || true
    exec 3<&- 3>&-
    [ -n "$reply" ]
}

if ! pg_up; then
    if is_local "$DB_HOST" && command -v pg_ctlcluster >/dev/null; then
        step "starting PostgreSQL 15"
        as_root pg_ctlcluster --skip-systemctl-redirect 15 main start || true
    fi
    wait_for 15 pg_up || die "PostgreSQL does not answer on $DB_HOST:$DB_PORT.
  Start it (pg_ctlcluster --skip-systemctl-redirect 15 main start) or point DATABASE_URL at a running server."
fi
if ! redis_up; then
    if is_local "$REDIS_HOST" && command -v redis-server >/dev/null; then
        step "starting Redis"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null || true
    fi
    wait_for 10 redis_up || die "Redis does not answer on $REDIS_HOST:$REDIS_PORT.
  Install and start it (apt-get install redis-server; redis-server --daemonize yes) or set REDIS_URL."
fi

# --- 3. Python and npm packages ---------------------------------------------------------------
if ! "$VENV/bin/python" -c '' 2>/dev/null; then
    step "creating $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed: on Debian install python3-venv"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
    step "installing Python packages (pip install -e '.[dev]'; log in $VENV/pip.log)"
    { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip \
        && "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[dev]"; } >"$VENV/pip.log" 2>&1 \
        || { tail -n 30 "$VENV/pip.log" >&2; die "pip install failed (full log: $VENV/pip.log)"; }
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi

# Front-end tools for the tests (axe-core), from package-lock.json.
if [ -f package.json ]; then
    if ! command -v npm >/dev/null; then
        step "installing Debian packages: nodejs npm"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
    fi
    npm_stamp="node_modules/.installed-$(cat package*.json | sha256sum | cut -c1-16)"
    if [ ! -e "$npm_stamp" ]; then
        step "installing npm packages (node_modules)"
        if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error
        else npm install --no-audit --no-fund --loglevel=error; fi
        rm -f node_modules/.installed-*
        touch "$npm_stamp"
    fi
fi

# --- 4. Database -------------------------------------------------------------------------------
psql_do() {  # psql_do DBNAME: run the SQL on stdin, stop at the first error, print bare values
    PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$1" -v name="$DB_NAME"
}
exists=$(psql_do postgres <<< "SELECT 1 FROM pg_database WHERE datname = :'name'") \
    || die "cannot connect to PostgreSQL as '$DB_USER' on $DB_HOST:$DB_PORT (check DATABASE_URL)"
if [ "$exists" != 1 ]; then
    step "creating database $DB_NAME"
    psql_do postgres <<< 'CREATE DATABASE :"name"' || die "could not create database $DB_NAME"
fi
psql_do "$DB_NAME" <<< 'CREATE EXTENSION IF NOT EXISTS postgis' >/dev/null \
    || die "could not enable PostGIS in $DB_NAME: the role '$DB_USER' must be a superuser"

step "ready (database $DB_NAME on $DB_HOST:$DB_PORT, Redis on $REDIS_HOST:$REDIS_PORT, $VENV)"
