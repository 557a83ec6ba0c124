import os

from django.core.wsgi import get_wsgi_application

from config.process import web_process_tune

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()
web_process_tune()
