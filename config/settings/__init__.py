"""Settings by environment: base (common), development, test, production. Name one of them in
DJANGO_SETTINGS_MODULE; without it, manage.py, WSGI, ASGI and Celery use production."""
