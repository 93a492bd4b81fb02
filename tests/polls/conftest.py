"""Fixtures shared by the poll tests."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.fixture
def fast_ballot_on_postgres() -> None:
    """For the fast first ballot's tests: its SQL is PostgreSQL's."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the fast first ballot is PostgreSQL's SQL")
