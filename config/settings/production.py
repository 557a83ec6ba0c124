"""Production, the default when DJANGO_SETTINGS_MODULE is not set: it fails closed. No secret, no
start; DEBUG is never on."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_list

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Production settings (config.settings.production, the default) "
        "need a long random secret in the environment; for local work use "
        "DJANGO_SETTINGS_MODULE=config.settings.development (make run does)."
    )
if env_bool("DJANGO_DEBUG", False):
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is true under production settings: DEBUG shows settings and code to anyone. "
        "Use DJANGO_SETTINGS_MODULE=config.settings.development for local work."
    )
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
