import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
application = get_wsgi_application()

from hub import mqtt  # noqa: E402 - once Django is set up

mqtt.set_role("web")
