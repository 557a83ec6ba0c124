#!/usr/bin/env bash
# Serve the app for development: Celery worker and beat in the background (logs in var/log/),
# Django's runserver in the foreground. Ctrl-C stops all three. `make run` prepares the database first.
set -euo pipefail
cd "$(dirname "$0")/.."

ADDRESS=${ADDRESS:-127.0.0.1:8000}
# Development asked for explicitly: without it the production settings would refuse to start.
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.development}
[ -x .venv/bin/celery ] || { echo "run: no .venv yet: run 'make setup' (or 'make run')" >&2; exit 1; }
mkdir -p var/log

pids=()
stop() {
    trap - EXIT INT TERM
    if [ ${#pids[@]} -gt 0 ]; then
        echo "run: stopping Celery (${pids[*]})"
        kill -TERM "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

.venv/bin/celery -A config worker -l info --concurrency 2 >>var/log/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat -l info --schedule var/celerybeat-schedule >>var/log/beat.log 2>&1 &
pids+=($!)
echo "run: Celery worker and beat started (logs: var/log/worker.log, var/log/beat.log)"
echo "run: serving on http://$ADDRESS/ (admin: /admin/, API docs: /api/docs/); Ctrl-C stops everything"

.venv/bin/python manage.py runserver "$ADDRESS"
