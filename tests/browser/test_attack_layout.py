"""Attack review: a director's comment of one long token (a pasted link) once widened the
proposal page to over a million pixels on a phone."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from proposals import materials
from proposals.models import Proposal


def test_a_long_unbroken_comment_wraps_on_a_phone(signed_in: Any, proposal_in_review: Proposal) -> None:
    author = User.objects.get(username="robyn")
    materials.comment_add(proposal=proposal_in_review, actor=author, body="https://example.com/" + "a" * 5000)
    page = signed_in("robyn", viewport={"width": 375, "height": 800})
    page.goto(f"/proposals/{proposal_in_review.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
