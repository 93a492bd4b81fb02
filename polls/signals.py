"""What polls announce. Receivers (the proposals app) must defer real work to on_commit: these
fire inside the transaction that made the change."""

from django.dispatch import Signal

# poll_id: a poll or shareholder item has opened (the secretary opened it early, or the sweep
# recorded its opening time).
poll_opened = Signal()
# poll_id: a poll or shareholder item has closed (by the secretary or the sweep).
poll_closed = Signal()
# poll_id: a poll or item's result is certified and frozen.
poll_certified = Signal()
