"""Settings common to every environment, every value from the environment.

The modules beside this one pick the environment: `development` (`make run`), `test` (pytest) and
`production` (the default of manage.py, WSGI, ASGI and Celery: it fails closed).

Nothing city-specific lives in code: the metric SRID, languages and map centre are settings,
territories, districts, teams and categories are data.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# No default secret and no DEBUG here: the development and test modules set theirs, production
# refuses to start without a secret.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "axes",
    "cartography",
    "cartography.planning",
    "cartography.publicmap",
    "signalements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Control characters in a path, query string, header or form field: a 400 before any view, in
    # the visitor's language (signalements.trust.guards).
    "signalements.trust.guards.ControlCharactersGuard",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "signalements.trust.headers.NoStorePersonalDataMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "signalements.trust.context.capabilities",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default="postgis://postgres@127.0.0.1:5432/signalements",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        engine="django.contrib.gis.db.backends.postgis",
    )
}
# Memory for each sort or bitmap of a query (PostgreSQL's default is 4 MB). At 4 MB the desk's
# search by two word starts made the full-text indexes' bitmap lossy, and PostgreSQL read again
# most of the table (benchmarks/results/FINDINGS.md: desk search). Each connection may use it a few
# times at once: keep DATABASE_POOL_MAX_SIZE x processes x this well under the server's memory.
DATABASE_WORK_MEM = os.environ.get("DATABASE_WORK_MEM", "16MB")
DATABASES["default"].setdefault("OPTIONS", {})["options"] = f"-c work_mem={DATABASE_WORK_MEM}"
# A pool of connections per process (psycopg 3's, through Django). A request, a Celery task or a
# thread of the development server borrows one and gives it back when it ends; when all are out,
# it waits up to the timeout rather than failing. Without it, each thread of runserver kept its
# own connection for CONN_MAX_AGE and 4 clients took 99 of PostgreSQL's 100. Size it so that
# (web processes + Celery processes) x max_size stays under max_connections (see README).
DATABASE_POOL = env_bool("DATABASE_POOL", True)
if DATABASE_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "1")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "8")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "30")),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English")), ("nl", _("Nederlands"))]
MODELTRANSLATION_DEFAULT_LANGUAGE = "fr"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("fr", "en", "nl")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Brussels")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
# Front-end libraries from npm (package.json, installed by scripts/bootstrap.sh), served as static
# files from their built folder: no CDN, as the Content Security Policy wants.
STATICFILES_DIRS = [
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
    # The public map (cartography.publicmap) draws vector tiles with MapLibre GL JS, its CSP build:
    # the worker is this static file, not a blob: URL.
    ("vendor/maplibre-gl", BASE_DIR / "node_modules" / "maplibre-gl" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))

# Distances, radii and clustering are computed on a metric copy of every point. ETRS89-LAEA
# (EPSG:3035) is metric over all of Europe, so Belgian and French demo cities share one database;
# a single-city deployment may pick its national grid (3812, 31370, 2154) before the first migration.
METRIC_SRID = int(os.environ.get("METRIC_SRID", "3035"))

# Request size limits: photos are checked one by one, the whole body by Django.
SIGNALEMENT_MAX_PHOTO_BYTES = int(os.environ.get("SIGNALEMENT_MAX_PHOTO_BYTES", str(8 * 1024 * 1024)))
SIGNALEMENT_MAX_PHOTOS = 3  # at submission
SIGNALEMENT_MAX_PHOTOS_TOTAL = 6  # with those the reporter adds later
SIGNALEMENT_MAX_REQUEST_BYTES = int(os.environ.get("SIGNALEMENT_MAX_REQUEST_BYTES", str(25 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", str(26 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Bulk loads check foreign keys once per key rather than once per row where the database role may
# (signalements.bulk); false keeps PostgreSQL's row triggers in every case.
SIGNALEMENT_BULK_SET_BASED_CHECKS = env_bool("SIGNALEMENT_BULK_SET_BASED_CHECKS", True)
# Outside a transaction, a bulk load locates the rows on a second connection while it inserts them,
# a date range of this many rows at a time (signalements.bulk.pipeline); false: one connection.
SIGNALEMENT_BULK_PIPELINE = env_bool("SIGNALEMENT_BULK_PIPELINE", True)
SIGNALEMENT_BULK_CHUNK_ROWS = int(os.environ.get("SIGNALEMENT_BULK_CHUNK_ROWS", "100000"))
# Moderation of public texts and photos (signalements.trust.moderation): "post" shows them at once,
# e-mail addresses and phone numbers masked, those masked flagged for review; "pre" shows a citizen's
# text or photo only once a moderator approved it.
SIGNALEMENT_MODERATION = os.environ.get("SIGNALEMENT_MODERATION", "post")
if SIGNALEMENT_MODERATION not in ("post", "pre"):
    raise ImproperlyConfigured('SIGNALEMENT_MODERATION must be "post" or "pre".')
# Countries whose national phone formats the filter recognises (ISO 3166-1, comma-separated).
SIGNALEMENT_PHONE_REGIONS = [
    code.strip().upper()
    for code in os.environ.get("SIGNALEMENT_PHONE_REGIONS", "BE,FR,NL").split(",")
    if code.strip()
]
# A submission whose side effects were not done after this delay is picked up again by the sweep.
SIGNALEMENT_SWEEP_AFTER = timedelta(minutes=int(os.environ.get("SIGNALEMENT_SWEEP_AFTER_MINUTES", "10")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "signalements.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # JSON bodies: an object, nested at most SIGNALEMENT_MAX_JSON_DEPTH deep, without NUL.
    "DEFAULT_PARSER_CLASSES": [
        "signalements.trust.guards.GuardedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Per client and scope, rates in SIGNALEMENT_THROTTLE_RATES below (signalements.trust.throttles).
    "DEFAULT_THROTTLE_CLASSES": ["signalements.trust.throttles.ClientRateThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Signalements API",
    "DESCRIPTION": "Report problems in public space, follow them, and read what the city does about them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The paths' common start, stripped from operation ids and used as their tag. Guessed, it would
    # be "/" since Open311's views (left out of the schema) live under /open311/: every id and tag
    # would change.
    "SCHEMA_PATH_PREFIX": "/api",
    # One name for the workflow's statuses, wherever a serializer shows them (status, to_status).
    "ENUM_NAME_OVERRIDES": {
        "SignalementStatusEnum": "signalements.models.Status",
        "CrewCannotReasonEnum": "signalements.models.CrewUpdate.CannotReason",
        # Two serializers have a `kind`: each keeps its own name.
        "KindEnum": "signalements.api.citizen.GEOCODE_KINDS",
        "RunKindEnum": "cartography.planning.models.AnalysisRun.Kind",
    },
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (
        float(os.environ.get("MAP_CENTER_LAT", "50.63")),
        float(os.environ.get("MAP_CENTER_LON", "5.57")),
    ),
    "DEFAULT_ZOOM": int(os.environ.get("MAP_DEFAULT_ZOOM", "12")),
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 19,
    "TILES": [
        (
            "OpenStreetMap",
            os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
    "RESET_VIEW": False,
}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
# Every task is fire-and-forget: what it did is in the database (processed_at, sent_at), and
# nothing reads a task's result. So no result is kept, and there is no result backend. Not only
# tidiness: with results kept, .delay() first subscribes to the task's result on the backend, and
# the Redis backend retries that connection 20 times, about 1 s apart, whatever the publish retry
# policy says; with Redis down, each report waited ~19 s and the broker was not even tried.
# CELERY_RESULT_BACKEND in the environment (Celery reads it first) still sets a backend; with
# results ignored, publishing never touches it.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Publishing must not hang a citizen's request when the broker is down: the sweep retries later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Kombu's Redis transport ignores broker_connection_timeout: it goes by these. Without them, a
# broker host that drops packets holds each connection attempt for the system's TCP timeout
# (over two minutes on Linux), and a Redis that accepts connections but no longer answers holds a
# publish forever. A healthy Redis answers in milliseconds; a worker's BRPOP, within 1 s.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": 5,
}
CELERY_BEAT_SCHEDULE = {
    "propose-duplicate-groups": {
        "task": "signalements.tasks.duplicates_cluster",
        "schedule": crontab(minute="*/15"),
    },
    "overdue-digest-per-team": {
        "task": "signalements.tasks.deadlines_digest",
        "schedule": crontab(hour=7, minute=0),
    },
    # Deadlines reach into next year from the autumn on: load its public holidays in advance.
    "public-holidays-next-year": {
        "task": "signalements.tasks.public_holidays_next_year",
        "schedule": crontab(month_of_year=10, day_of_month=1, hour=3, minute=30),
    },
    "sweep-unprocessed-signalements": {
        "task": "signalements.tasks.sweep_unprocessed",
        "schedule": crontab(minute="*/5"),
    },
    # Territories whose boundaries or work zones changed while the broker was down (or whose
    # relocation failed) are still marked: relocate their reports.
    "sweep-pending-relocations": {
        "task": "cartography.tasks.sweep_relocations",
        "schedule": crontab(minute="*/5"),
    },
    # A locate cells build that failed at an edit's commit left locating on the slower rules.
    "refresh-stale-locate-cells": {
        "task": "cartography.tasks.refresh_locate_cells",
        "schedule": crontab(minute="*/5"),
    },
    # The planners' analyses read whole months: once a night is fresh enough, and each run
    # rewrites its table whole (cartography.planning.services).
    "planning-volumes": {
        "task": "cartography.planning.tasks.planning_volumes_compute",
        "schedule": crontab(hour=3, minute=10),
    },
    "planning-hotspots": {
        "task": "cartography.planning.tasks.planning_hotspots_compute",
        "schedule": crontab(hour=3, minute=20),
    },
    # The public map's counts per day of the days it no longer reads (cartography.publicmap.database).
    "publicmap-days-forget": {
        "task": "cartography.publicmap.tasks.publicmap_days_forget",
        "schedule": crontab(hour=3, minute=40),
    },
    # The rows each statement appends to the public map's counts, merged into one per key.
    "publicmap-counts-compact": {
        "task": "cartography.publicmap.tasks.publicmap_counts_compact",
        "schedule": crontab(hour=3, minute=50),
    },
}

# Address search: the local geocoder searches streets and districts loaded from data; set
# cartography.geocoding.NominatimGeocoder and GEOCODER_URL to use a Nominatim-compatible service.
GEOCODER_BACKEND = os.environ.get("GEOCODER_BACKEND", "cartography.geocoding.LocalGeocoder")
GEOCODER_URL = os.environ.get("GEOCODER_URL", "")
GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "signalements (incident desk)")

# Absolute links in e-mails (tracking pages) start with this.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "signalements@localhost")

LOGIN_URL = "admin:login"

# Headers every environment sends; production adds HTTPS-only cookies, HSTS and the redirect.
X_FRAME_OPTIONS = "DENY"
# Tracking links carry their secret in the path: never sent to another site (map tiles) as a Referer.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True


def url_origin(url: str) -> str:
    """The scheme and host of a URL template, Leaflet's {s} subdomains as a wildcard."""
    parts = urlsplit(url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


# Scripts and styles are static files of this site (no inline script, style element or attribute);
# images are this site's, data: and blob: (photo previews) and the map tiles' host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", url_origin(LEAFLET_CONFIG["TILES"][0][1])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# The public list API counts its matches exactly up to this many, and gives the database's estimate
# beyond (signalements.api.pagination): an exact count of a million rows was most of a page's time.
SIGNALEMENT_API_EXACT_COUNT_UP_TO = int(os.environ.get("SIGNALEMENT_API_EXACT_COUNT_UP_TO", "10000"))

# The public map (cartography.publicmap). Its basemap: raster tiles from this URL template, or none
# (districts and reports on a plain background) when empty. Tiles are fresh within
# PUBLIC_MAP_FRESHNESS_SECONDS (the freshness token's life in the cache) + PUBLIC_MAP_MAX_AGE
# (browsers' and proxies' cache); a built tile stays in the cache PUBLIC_MAP_CACHE_SECONDS at most.
PUBLIC_MAP_BASEMAP_URL = os.environ.get("PUBLIC_MAP_BASEMAP_URL", LEAFLET_CONFIG["TILES"][0][1])
PUBLIC_MAP_BASEMAP_ATTRIBUTION = os.environ.get(
    "PUBLIC_MAP_BASEMAP_ATTRIBUTION", "© OpenStreetMap contributors"
)
PUBLIC_MAP_FRESHNESS_SECONDS = int(os.environ.get("PUBLIC_MAP_FRESHNESS_SECONDS", "5"))
PUBLIC_MAP_MAX_AGE = int(os.environ.get("PUBLIC_MAP_MAX_AGE", "30"))
PUBLIC_MAP_CACHE_SECONDS = int(os.environ.get("PUBLIC_MAP_CACHE_SECONDS", "600"))
PUBLIC_MAP_MAX_AGE_HOURS = int(os.environ.get("PUBLIC_MAP_MAX_AGE_HOURS", "1"))
# Where the map opens when no district is loaded yet (minlon, minlat, maxlon, maxlat).
PUBLIC_MAP_DEFAULT_BOUNDS = (
    LEAFLET_CONFIG["DEFAULT_CENTER"][1] - 0.1,
    LEAFLET_CONFIG["DEFAULT_CENTER"][0] - 0.06,
    LEAFLET_CONFIG["DEFAULT_CENTER"][1] + 0.1,
    LEAFLET_CONFIG["DEFAULT_CENTER"][0] + 0.06,
)

# Debian 12 ships GDAL 3.6; GDAL only reads the boundary files an administrator imports.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Retention (signalements.trust.retention): the contact data of a report's reporter, supporters and
# followers is anonymised this many days after it was closed, each night; also `anonymise_contacts`.
SIGNALEMENT_RETENTION_DAYS = int(os.environ.get("SIGNALEMENT_RETENTION_DAYS", "365"))
# Login records (addresses and user agents of staff logins and failures) are kept this long.
SIGNALEMENT_LOGIN_LOG_DAYS = int(os.environ.get("SIGNALEMENT_LOGIN_LOG_DAYS", "90"))
CELERY_BEAT_SCHEDULE["anonymise-contacts-after-retention"] = {
    "task": "signalements.tasks.contacts_anonymise",
    "schedule": crontab(hour=2, minute=30),
}
# Trust: throttles per client, login lockout, e-mail confirmation (signalements.trust).
# Throttle counters live on Redis, shared by every web process; the default cache stays local.
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "redis://127.0.0.1:6379/1")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "throttles": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_REDIS_URL,
        "KEY_PREFIX": "throttle",
        # A Redis that is down or unreachable lets requests through (trust.throttles) quickly.
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}
# False turns every throttle off (a load test from one address); the login lockout stays.
SIGNALEMENT_THROTTLES_ENABLED = env_bool("SIGNALEMENT_THROTTLES_ENABLED", True)
# Proxies in front of the application that append the client's address to X-Forwarded-For. 0: the
# header is the client's word and is ignored; 1 behind one reverse proxy (nginx, a load balancer).
SIGNALEMENT_TRUSTED_PROXIES = int(os.environ.get("SIGNALEMENT_TRUSTED_PROXIES", "0"))
SIGNALEMENT_THROTTLE_RATES = {
    scope: os.environ.get(f"SIGNALEMENT_THROTTLE_{scope.upper()}", rate)
    for scope, rate in {
        "submit": "20/hour",
        "support": "10/hour",
        "comment": "20/hour",
        "photo": "12/hour",
        "tracking": "120/hour",
        "geocode": "60/minute",
        "nearby": "60/minute",
        "staff": "600/hour",
        "login": "30/hour",
    }.items()
}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = SIGNALEMENT_THROTTLE_RATES
REST_FRAMEWORK["NUM_PROXIES"] = SIGNALEMENT_TRUSTED_PROXIES
RATELIMIT_USE_CACHE = "throttles"
# Logins: django-axes locks a username from one address after this many failures, for the cool-off
# time. Username and address together, so that nobody locks a colleague out from elsewhere; trying
# many usernames from one address meets the "login" throttle.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "signalements.trust.throttles.client_ip"
AXES_LOCKOUT_CALLABLE = "signalements.trust.throttles.login_locked_out"
AXES_USERNAME_CALLABLE = "signalements.trust.throttles.login_username"
AXES_HTTP_RESPONSE_CODE = 429
# Double opt-in: how long the link of the confirmation e-mail works.
SIGNALEMENT_CONFIRMATION_MAX_AGE = timedelta(
    days=int(os.environ.get("SIGNALEMENT_CONFIRMATION_MAX_AGE_DAYS", "7"))
)
# Bad input: bounds that refuse it with a 400 before it costs memory or a server error.
# A photo's pixels, checked from its header before decoding: phones save 12 to 24 Mpx by default,
# and 30 Mpx decoded is already some 90 MB of RGB.
SIGNALEMENT_MAX_PHOTO_PIXELS = int(os.environ.get("SIGNALEMENT_MAX_PHOTO_PIXELS", "30000000"))
# JSON bodies nested deeper than this are refused (signalements.trust.guards).
SIGNALEMENT_MAX_JSON_DEPTH = int(os.environ.get("SIGNALEMENT_MAX_JSON_DEPTH", "20"))
# Open data (signalements.opendata): the licence every export states, who publishes, and where the
# daily full dump is written (served at stable addresses under /donnees/complet/).
OPENDATA_LICENCE_NAME = os.environ.get("OPENDATA_LICENCE_NAME", "Licence Ouverte / Open Licence 2.0 (Etalab)")
OPENDATA_LICENCE_URL = os.environ.get(
    "OPENDATA_LICENCE_URL",
    "https://www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf",
)
OPENDATA_PUBLISHER = os.environ.get("OPENDATA_PUBLISHER", "")
OPENDATA_DUMP_DIR = Path(os.environ.get("OPENDATA_DUMP_DIR", BASE_DIR / "var" / "opendata"))
CELERY_BEAT_SCHEDULE["opendata-daily-dump"] = {
    "task": "signalements.opendata.tasks.opendata_dump",
    "schedule": crontab(hour=4, minute=15),
}
# Task modules of capability packages that are not Django apps: the worker imports them at start.
CELERY_IMPORTS = ["signalements.opendata.tasks"]
# Open311 GeoReport v2 (signalements.open311): requests GET answer at most this many days and rows
# unless asked otherwise (the standard's defaults); the page extension's largest page.
OPEN311_DEFAULT_WINDOW_DAYS = int(os.environ.get("OPEN311_DEFAULT_WINDOW_DAYS", "90"))
OPEN311_MAX_REQUESTS = int(os.environ.get("OPEN311_MAX_REQUESTS", "1000"))
# Planners (cartography.planning): places that come back every season, on Sunday night; the
# early-warning scan and its digest on Monday morning, over the week up to Sunday.
CELERY_BEAT_SCHEDULE["planning-recurring-places"] = {
    "task": "cartography.planning.tasks.recurring_places_refresh",
    "schedule": crontab(day_of_week="sunday", hour=3, minute=15),
}
CELERY_BEAT_SCHEDULE["planning-early-warning-weekly"] = {
    "task": "cartography.planning.tasks.early_warning_weekly",
    "schedule": crontab(day_of_week="monday", hour=6, minute=0),
}
