# Image for the web app, the Celery worker and Celery beat (see compose.yaml).

# Front-end libraries the pages serve (package.json "dependencies": chart.js), not the test tools.
FROM node:22-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm

ENV DJANGO_SETTINGS_MODULE=config.settings.production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# GeoDjango needs GDAL (with GEOS and PROJ); compilemessages needs gettext.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gdal-bin libgdal32 gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN useradd --create-home --uid 1000 app

# Dependencies first, from pyproject.toml alone, so that code changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# The project itself, editable so that settings.BASE_DIR is /app (fixtures/, locale/, templates/).
COPY --chown=app:app . .
COPY --from=frontend --chown=app:app /src/node_modules/chart.js/dist node_modules/chart.js/dist
# Production settings need a secret to load: a throw-away one for these two build-time commands.
RUN pip install --no-deps -e . \
    && DJANGO_SECRET_KEY=build-time-only python manage.py compilemessages --ignore=.venv \
    && DJANGO_SECRET_KEY=build-time-only python manage.py collectstatic --noinput \
    && mkdir -p var/media \
    && chown -R app:app var locale

USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"]
