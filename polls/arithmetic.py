"""Exact result arithmetic for polls. Plain Python, no Django: integers in, integers out."""

from collections.abc import Sequence
from decimal import Decimal

PERCENT_SCALE = 1000  # tenths of a percent: 100.0% is 1000 units


def largest_remainder_tenths(counts: Sequence[int]) -> list[int]:
    """Split 100.0% among `counts` in tenths of a percent so the parts sum to exactly 1000.

    Each part is the exact share rounded down, and the units left over go one each to the
    largest remainders (Hamilton's method). Equal remainders go to the larger count, then to
    the earlier position, so the result is deterministic. With no votes every part is 0.
    """
    if any(count < 0 for count in counts):
        raise ValueError("counts must not be negative")
    total = sum(counts)
    if total == 0:
        return [0 for _ in counts]
    floors = [count * PERCENT_SCALE // total for count in counts]
    remainders = [count * PERCENT_SCALE % total for count in counts]
    left_over = PERCENT_SCALE - sum(floors)
    by_remainder = sorted(range(len(counts)), key=lambda i: (-remainders[i], -counts[i], i))
    for index in by_remainder[:left_over]:
        floors[index] += 1
    return floors


def tenths_to_percent(tenths: int) -> Decimal:
    """1000 -> Decimal('100.0'): a one-decimal percentage, exact."""
    return (Decimal(tenths) / 10).quantize(Decimal("0.1"))


def leaders(counts: Sequence[int]) -> list[int]:
    """Positions of the largest count; more than one means a tie, none when nobody voted."""
    if not counts or max(counts) == 0:
        return []
    top = max(counts)
    return [i for i, count in enumerate(counts) if count == top]
