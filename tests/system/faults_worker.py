"""The Celery app that tests/system/test_faults.py starts, SIGKILLs and restarts: the project's own app
with one addition. QUORUM_FAULT_PAUSE names a step at which the worker stops for a minute, after
touching `paused-<step>` in QUORUM_FAULT_DIR, so that the test's SIGKILL lands inside a task at
a known point, between work done and its commit:

- `settle`: a certified vote is settling its proposal: the new status and the audit event are
  written, the transaction is still open.
- `mail`: a notification task is about to hand its message to the mail backend, and at least one
  other message has already gone out.

Test-only: `celery -A tests.system.faults_worker worker`; the project never imports this module.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

from config.celery import app

django.setup()

from django.core.mail.backends import filebased  # noqa: E402 - after django.setup()

from proposals import notifications  # noqa: E402
from proposals.workflow import Action  # noqa: E402

PAUSE = os.environ.get("QUORUM_FAULT_PAUSE", "")
FAULT_DIR = Path(os.environ.get("QUORUM_FAULT_DIR", "."))
PAUSE_SECONDS = 60.0

__all__ = ["app"]


def _pause(step: str) -> None:
    (FAULT_DIR / f"paused-{step}").touch()
    time.sleep(PAUSE_SECONDS)


_notify_transition = notifications.notify_transition


def _notify_transition_paused(proposal: Any, action: str, target: str) -> None:
    if PAUSE == "settle" and action == Action.SETTLE:
        _pause("settle")
    _notify_transition(proposal, action, target)


_send_messages = filebased.EmailBackend.send_messages


def _send_messages_paused(self: Any, messages: Any) -> int:
    if PAUSE == "mail" and any(Path(self.file_path).iterdir()):
        _pause("mail")
    return _send_messages(self, messages)


notifications.notify_transition = _notify_transition_paused
filebased.EmailBackend.send_messages = _send_messages_paused  # type: ignore[method-assign,assignment]
