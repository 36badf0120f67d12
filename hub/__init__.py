"""The project package and the shared core every domain app builds on."""

from hub.celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
