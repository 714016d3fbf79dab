"""The one import point of Django's task framework.

django-tasks is the backport of Django 6's ``django.tasks``; the move to Django 6
changes these imports and nothing else (the backport's exception names differ).
"""

from django_tasks import TaskResultStatus, task, task_backends  # noqa: F401
from django_tasks.exceptions import InvalidTaskBackendError  # noqa: F401
