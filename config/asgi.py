import os

from django.core.asgi import get_asgi_application

from config.process import web_process_tune

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_asgi_application()
web_process_tune()
