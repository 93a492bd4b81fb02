"""How a free-text party name becomes the key it is matched by.

Recusal must not depend on spelling: "xAI", "xAI Corp", "x.AI", its full-width form and "xAI" with a
zero-width space are one party. Pure Python, no Django, so it is tested exhaustively.
"""

from __future__ import annotations

import re
import unicodedata

# Legal forms dropped from the end of a name: they tell companies' forms apart, not parties.
LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "llc",
        "llp",
        "lp",
        "ltd",
        "limited",
        "holding",
        "holdings",
        "plc",
        "spa",
        "srl",
        "sa",
        "sas",
        "nv",
        "bv",
        "ag",
        "gmbh",
        "kg",
    }
)

# Letters and digits only survive; everything else (punctuation, symbols, spaces) separates words.
_WORD = re.compile(r"[^\W_]+")


def _visible(text: str) -> str:
    """Drop format characters (zero-width spaces and joiners, BOM, bidi marks) and controls."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in {"Cf", "Cc", "Cs", "Co", "Cn"})


def party_words(text: str) -> list[str]:
    """The name's words after NFKC and casefolding, legal suffixes dropped from the end.

    Dotted abbreviations are one word ("x.AI" and "S.p.A." read as "xai" and "spa"), so a
    suffix written with dots is dropped like one written without."""
    folded = unicodedata.normalize("NFKC", _visible(text)).casefold()
    folded = re.sub(r"(?<=[^\W_])\.(?=[^\W_])", "", folded)
    words = _WORD.findall(folded)
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return words


def party_key(text: str) -> str:
    """The matching key: the words run together, so "Space X" and "SpaceX" are one party.
    Empty when the text names nothing."""
    return "".join(party_words(text))
