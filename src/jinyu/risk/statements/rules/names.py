"""Counterparty names and account numbers, compared the way statements write them.

Fuzzy comparison uses the standard library's `difflib.SequenceMatcher` (rapidfuzz is not a dependency):
names are short, and the passes compare only candidates that already agree on amount and date.
The hub masks personal names (张** for 张三丰), so a `*` in either name matches any one character.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_ACCOUNT_NOISE = re.compile(r"[\s-]")
MASK = "*"


@lru_cache(maxsize=65_536)  # counterparties repeat: a busy account has thousands of lines, hundreds of names
def norm_name(name: str | None) -> str:
    """NFKC (full-width brackets and letters become plain), no spaces, case-folded."""
    if not name:
        return ""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name)).casefold()


@lru_cache(maxsize=65_536)
def norm_account(account: str | None) -> str:
    return _ACCOUNT_NOISE.sub("", account) if account else ""


def _masked_equal(a: str, b: str) -> bool:
    return len(a) == len(b) and all(x == y or MASK in (x, y) for x, y in zip(a, b, strict=True))


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised names; 1.0 for equal names or a masked name that fits."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if MASK in a or MASK in b:
        return 1.0 if _masked_equal(a, b) else 0.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.ratio()


def same_counterparty(
    account_a: str, name_a: str, account_b: str, name_b: str, min_similarity: float
) -> bool:
    """Same account when both are known; otherwise names similar enough. Inputs are normalised."""
    if account_a and account_b:
        return account_a == account_b
    return similarity(name_a, name_b) >= min_similarity
