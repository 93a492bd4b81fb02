"""Control numbers: what a holder types to claim a holding. Pure: no Django imports.

Sixteen digits, the last a Luhn check digit, so a mistyped digit or a swap of two neighbours is
caught; the fifteen others come from `secrets` (about 50 bits), and the database keeps only a
keyed HMAC of the number, so neither a guess nor a copy of the database yields a holding."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

LENGTH = 16
_BODY = LENGTH - 1
_BODY_SPAN = 10**_BODY
_SHA256_BLOCK = 64
# What a reader may type between digits: spaces, hyphens, dots, and their wide forms.
_SEPARATORS = str.maketrans("", "", " -.\u00a0\u2009\u202f\u2010\u2011\u2012\u2013\u2014\u3000\uff0d\uff0e")


def check_digit(body: str) -> str:
    """The Luhn digit that makes `body + digit` pass the Luhn test."""
    total = 0
    # Doubling starts from the rightmost digit of the body (the check digit will follow it).
    for position, char in enumerate(reversed(body)):
        digit = ord(char) - 48
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isascii() and number.isdigit() and check_digit(number[:-1]) == number[-1]


def generate() -> str:
    body = f"{secrets.randbelow(_BODY_SPAN):0{_BODY}d}"
    return body + check_digit(body)


def normalise(text: str) -> str | None:
    """The sixteen digits the reader meant, or None when `text` cannot be a control number."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    digits = text.strip().translate(_SEPARATORS)
    if len(digits) != LENGTH or not digits.isascii() or not digits.isdigit():
        return None
    return digits if luhn_valid(digits) else None


def grouped(number: str) -> str:
    """As printed on the mailing: four groups of four."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def hmac_pads(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA-256's inner and outer hashes (RFC 2104) with the key's padded block already
    hashed: for each number, a copy of the inner one takes the number and a copy of the outer
    one its digest, and gives what `digest` gives, without setting up an HMAC per number."""
    block = (hashlib.sha256(key).digest() if len(key) > _SHA256_BLOCK else key).ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))
    return inner, outer


def digest(number: str, key: bytes) -> bytes:
    """What the database stores: HMAC-SHA-256 of the sixteen digits (32 bytes, compared as
    bytes: a text column's collation made the unique index several times slower to fill)."""
    return hmac.digest(key, number.encode("ascii"), hashlib.sha256)
