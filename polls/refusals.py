"""Refusals that must name nothing: one wording whichever of the hidden reasons applies, so
an answer never tells a stranger that a holder, an account or a ballot exists."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# A ballot, proxy or holder the caller does not represent, or that does not exist.
HOLDER_REFUSED = _("You may not act for that holder at this meeting.")
# Proxy appointment: the same answer whether or not an account matched.
PROXY_APPOINTED = _(
    "Done. If %(who)s has an account, they may now vote for %(holder)s; "
    "if it is an e-mail address without an account, we sent an invitation."
)
TABULATION_BEFORE_CLOSE = _("Enter the inspector's totals after the poll closes.")
ITEM_NOT_SECRET = _("A shareholder vote is public; only public polls can be secret.")
SECRET_BALLOT = _("secret ballot")
HIDDEN_UNTIL_RESULTS = _("hidden until results are visible")
HIDDEN_UNTIL_CLOSE = _("hidden until the poll closes")
