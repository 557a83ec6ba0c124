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

# HTTPS only. Behind a proxy that ends TLS, set DJANGO_SECURE_PROXY_SSL_HEADER=true (the proxy
# must set X-Forwarded-Proto and strip it from clients) so that Django sees the request as secure.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Not HttpOnly: the crew's offline queue reads the token from the cookie when it resends updates
# (Django: an HttpOnly CSRF cookie protects nothing, the token is in every form anyway).
CSRF_COOKIE_HTTPONLY = False
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)

# Mail really leaves: the console backend of the other environments would drop it silently.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
