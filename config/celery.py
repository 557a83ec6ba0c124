import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("signalements")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def delay_or_leave_for_sweep(task, *args, what: str, logger: logging.Logger) -> None:
    """Hand `task(*args)` to a worker. A broker outage must not fail what asked for it: the state
    that needs the task stays in the database, and a periodic sweep enqueues it again. `what` names
    it in the caller's warning ("signalement 12", "relocation of territory 3")."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - any broker error: the sweep is the safety net
        logger.warning("broker unavailable, %s left for the sweep", what, exc_info=True)
