"""RMI's RMAP status words, the standing each one means, and metal names.

A list keeps RMI's own words (``rmap_status``); what Assay judges by is the **standing**:

- ``conformant``: the smelter passed its RMAP (or a cross-recognised) assessment;
- ``active``: it committed to an assessment that is under way;
- ``not-conformant``: every other RMI status word, and absence from a list that covers
  the smelter's metal;
- ``not-covered``: lists are loaded, but none covers the smelter's metal;
- ``no-list``: no RMAP list is loaded at all.

The table is closed: a word not in it stops an import (the operator names its standing with
``--map WORD=STANDING``); nothing is guessed from a word's spelling.
"""

from __future__ import annotations

import re

STANDINGS = ("conformant", "active", "not-conformant", "not-covered", "no-list")
#: What a status word can map to (the last two are never a word's standing).
LIST_STANDINGS = ("conformant", "active", "not-conformant")

#: RMI's status words (and the spellings real lists and filings use), by standing.
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "conformant": (
        "Conformant",
        "RMAP Conformant",
        "Conformant (RMAP)",
        "Compliant",  # the 2014 CFSI word for today's Conformant
        "CFSP Compliant",
        "Cross-Recognized",
        "Cross-Recognised",
        "RMAP Cross-Recognized",
    ),
    "active": (
        "Active",
        "RMAP Active",
        "Active (RMAP)",
    ),
    "not-conformant": (
        "Non-Conformant",
        "Non Conformant",
        "Nonconformant",
        "Not Conformant",
        "Outreach Required",
        "RMI Due Diligence Review - Unable to Proceed",
        "Due Diligence Review - Unable to Proceed",
        "Communication Suspended - Not Interested",
        "In Communication",
        "Not Enrolled",
        "Not Participating",
        "Suspended",
        "Eligible",
        "Not Active",
    ),
}

_DASHES = re.compile(r"\s*[\u2010-\u2015\u2212-]\s*")
_SPACES = re.compile(r"[\s\u00a0\u3000\uffa0\u200b\ufeff]+")


def status_key(word: str) -> str:
    """A status word compared loosely: case, spacing, dash kinds and a footnote mark ignored."""
    text = _SPACES.sub(" ", str(word)).strip().rstrip("*\u2020\u2021\u00b9\u00b2\u00b3 ").strip()
    return _DASHES.sub(" - ", text).casefold().replace("non - ", "non-").replace("re - ", "re-")


_STANDING_BY_KEY: dict[str, str] = {
    status_key(word): standing for standing, words in STATUS_WORDS.items() for word in words
}


def standing_of(status: str, extra: dict[str, str] | None = None) -> str | None:
    """The standing a status word means, or None for a word the table does not know.

    ``extra`` maps further words (as the operator gave them with ``--map``) to a standing.
    """
    key = status_key(status)
    if extra:
        for word, standing in extra.items():
            if status_key(word) == key:
                return standing
    return _STANDING_BY_KEY.get(key)


#: Less favourable first: where one CID has two statuses in one import, the first one wins.
_RANK = {"not-conformant": 0, "active": 1, "conformant": 2}


def less_favourable(a: str, b: str) -> str:
    """The less favourable of two list standings."""
    return a if _RANK.get(a, 0) <= _RANK.get(b, 0) else b


METALS = {
    "gold": "Gold",
    "au": "Gold",
    "tin": "Tin",
    "sn": "Tin",
    "tantalum": "Tantalum",
    "ta": "Tantalum",
    "tungsten": "Tungsten",
    "w": "Tungsten",
    "cobalt": "Cobalt",
    "co": "Cobalt",
    "mica": "Mica",
    "copper": "Copper",
    "cu": "Copper",
    "graphite": "Graphite",
    "natural graphite": "Graphite",
    "graphite (natural)": "Graphite",
    "lithium": "Lithium",
    "li": "Lithium",
    "nickel": "Nickel",
    "ni": "Nickel",
    "aluminum": "Aluminum",
    "aluminium": "Aluminum",
}


def canonical_metal(text: object) -> str:
    """``"TIN"``, ``"tin "``, ``"Sn"`` -> ``"Tin"``; an unknown word title-cased; blank -> ``""``."""
    key = _SPACES.sub(" ", str(text or "")).strip().casefold()
    if not key:
        return ""
    return METALS.get(key, key.title())
