"""Secret ballots: what the audit trail keeps of a choice nobody may read.

A secret poll's ballot event holds a commitment instead of the option: an HMAC of the poll and
option keyed by a random salt kept on the ballot row. The trail can still be checked against
the ballots (recompute the commitment from the row), but the trail alone names no choice, and
the salt changes with every change of mind, so two events of one voter cannot be compared.

Pure Python on purpose: the audit verifier imports it without touching models.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SALT_BYTES = 16  # 32 hex characters; Ballot.salt holds up to 64


def new_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def ballot_commitment(*, salt: str, poll_id: int, option_id: int) -> str:
    """HMAC-SHA-256 of "<poll>:<option>" keyed by the ballot's salt, as hex."""
    return hmac.new(salt.encode(), f"{poll_id}:{option_id}".encode(), hashlib.sha256).hexdigest()


def public_ballot_payload(*, poll_id: int, option_id: int, weight: int, secret: bool, salt: str) -> dict[str, object]:
    """The audit payload of a public poll's ballot: the option, or for a secret poll only its
    commitment under the key `commitment`."""
    if secret:
        return {
            "poll": poll_id,
            "commitment": ballot_commitment(salt=salt, poll_id=poll_id, option_id=option_id),
            "weight": weight,
        }
    return {"poll": poll_id, "option": option_id, "weight": weight}
