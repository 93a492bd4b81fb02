import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# QuorumTask (a DjangoTask) gives every task `delay_on_commit`: work is enqueued only once the
# transaction that asked for it has committed, so a worker never reads a row not there yet.
app = Celery("quorum", task_cls="config.tasks:QuorumTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
