"""Celery tasks of the TIC app: thin, keyword arguments only, queue declared on each task.

Its webhook deliveries are sent, retried and swept by the hub's tasks (``hub.tasks``).
"""
