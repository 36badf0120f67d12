"""Celery tasks of the VEGA watch: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from grdf_access.vega import calendar
from grdf_access.vega import watch as watching


@shared_task(ignore_result=True)
def watch() -> str:
    """Beat: read the watched directories, then raise the milestone alarms now due."""
    now = timezone.now()
    report = watching.scan_directories(now=now)
    missed = watching.check_milestones(now=now)
    return f"{report.recorded} recorded, {report.duplicates} duplicates, {missed} missed"


@shared_task(ignore_result=True)
def daily() -> str:
    """Beat: end-of-version reminders (90/30/7 days) and the stored files past retention."""
    now = timezone.now()
    sent = calendar.send_end_reminders(now=now)
    purged = watching.purge_files(now=now)
    return f"{sent} reminders, {purged} files purged"
