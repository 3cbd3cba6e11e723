"""What a Smelter List's mine-country cell says: countries, RMI's origin codes, or neither.

Column O ("Location (Country) of Mine(s) or if recycled or scrap sourced, enter recycled or
scrap") is free text. Besides country names and lists of them, real files carry the codes
RMI itself uses for a smelter's sourcing:

==============  ========================================  ===============================
code            meaning                                   read as
==============  ========================================  ===============================
``CC``          covered countries (the DRC and neighbours) covered-country sourcing: risk
``HR``          a conflict-affected or high-risk area      high-risk sourcing: risk
``LR``          low-risk areas                             no risk
``R/S``         recycled or scrap (also "Recycled/Scrap")  no risk
``DRC``         the Democratic Republic of the Congo       the country CD (covered)
==============  ========================================  ===============================

In this column the codes win over the ISO codes they collide with (``CC`` is also the
Cocos Islands, ``HR`` Croatia, ``LR`` Liberia): a supplier copying RMI's sourcing data
writes "CC, HR", and nobody sources tin from the Cocos Islands. Text that is neither a
country nor a code ("Ta scrap", "various", a district name) is kept as *unclear*, so a
check can ask what it means instead of passing it silently as "no covered country".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .countries import ALIASES, country_code, country_table

#: RMI's origin codes, keyed by the text upper-cased with spaces removed.
CODES: dict[str, str] = {
    "CC": "CC",
    "COVEREDCOUNTRY": "CC",
    "COVEREDCOUNTRIES": "CC",
    "HR": "HR",
    "HIGHRISK": "HR",
    "HIGH-RISK": "HR",
    "LR": "LR",
    "LOWRISK": "LR",
    "LOW-RISK": "LR",
    "R/S": "RS",
    "R&S": "RS",
    "RECYCLED": "RS",
    "RECYCLE": "RS",
    "RECYCLING": "RS",
    "SCRAP": "RS",
    "RECYCLED/SCRAP": "RS",
    "RECYCLE/SCRAP": "RS",
    "RECYCLEDSCRAP": "RS",
    "RECYCLEDORSCRAP": "RS",
    "RECYCLEDANDSCRAP": "RS",
    "RECYCLED&SCRAP": "RS",
    "RECYCLED/SCRAPSOURCES": "RS",
}
#: Plain words for each code, as a message names them.
CODE_WORDS: dict[str, str] = {
    "CC": "CC (covered countries)",
    "HR": "HR (high-risk area)",
    "LR": "LR (low-risk area)",
    "RS": "recycled or scrap",
}
_LIST_SPLIT = re.compile(r"[,;\n|]+")
_PART_SPLIT = re.compile(r"/|&|\+|\band\b", re.IGNORECASE)
_PARENS = re.compile(r"\([^()]{0,200}\)")


@dataclass(frozen=True)
class MineCountries:
    """The reading of one mine-country cell."""

    countries: tuple[str, ...] = ()  # ISO-2 codes, in order of mention
    codes: tuple[str, ...] = ()  # RMI codes: CC, HR, LR, RS
    unclear: tuple[str, ...] = ()  # parts that are neither (as written)

    @property
    def covered_code(self) -> bool:
        return "CC" in self.codes

    @property
    def high_risk_code(self) -> bool:
        return "HR" in self.codes


def _code(text: str) -> str:
    return CODES.get("".join(text.upper().split()), "")


def _country(text: str) -> str:
    """A country named by ``text``, also with a parenthesised district: "DRC (South Kivu)"."""
    code = country_code(text)
    if not code and "(" in text:
        code = country_code(_PARENS.sub(" ", text))
    return code


@lru_cache(maxsize=4096)
def read_mine_countries(text: str) -> MineCountries:
    """Countries, codes and unclear parts of a mine-country cell.

    Whole-text matches come first ("CONGO, DEMOCRATIC REPUBLIC OF THE", "Bosnia and
    Herzegovina", "Recycled/Scrap"); then the list is split on commas, semicolons and line
    breaks, a template name split on its comma is re-joined, and a part that is still
    neither is split on "/", "&", "+" and "and".
    """
    text = text.strip()
    if not text:
        return MineCountries()
    countries: list[str] = []
    codes: list[str] = []
    unclear: list[str] = []

    def one(part: str) -> bool:
        code = _code(part)
        if code:
            codes.append(code)
            return True
        country = _country(part)
        if country:
            countries.append(country)
            return True
        return False

    if not one(text):
        parts = [p.strip() for p in _LIST_SPLIT.split(text) if p.strip()]
        i = 0
        while i < len(parts):
            if i + 1 < len(parts) and country_code(f"{parts[i]}, {parts[i + 1]}"):
                countries.append(country_code(f"{parts[i]}, {parts[i + 1]}"))
                i += 2
                continue
            part = parts[i]
            i += 1
            if one(part):
                continue
            pieces = [p.strip() for p in _PART_SPLIT.split(part) if p.strip()]
            if len(pieces) > 1 and all(_code(p) or _country(p) for p in pieces):
                for piece in pieces:
                    one(piece)
            else:
                unclear.append(part)
    return MineCountries(
        tuple(dict.fromkeys(countries)), tuple(dict.fromkeys(codes)), tuple(unclear)
    )


def is_country_text(text: str) -> bool:
    """``text`` is a country name or a list of them, spelled out (not a bare 2-letter code):
    what a name or mine-name column should not hold. Cheap on the common case, a name that
    starts with no word any country name starts with."""
    if not text or len(text) > 500 or _first_word(text) not in _first_words():
        return False  # the first part of any list starts with the same word
    if _spelled_country(text):
        return True
    parts = [p for p in _NAME_SPLIT.split(text) if p.strip()]
    return len(parts) > 1 and all(_spelled_country(p) for p in parts)


_NAME_SPLIT = re.compile(r"[,;\n|/&+]+|\band\b", re.IGNORECASE)


def _spelled_country(part: str) -> bool:
    part = part.strip()
    if _first_word(part) not in _first_words():
        return False
    return bool(country_code(part)) and sum(ch.isalpha() for ch in part) >= 3


def _first_word(text: str) -> str:
    m = _FIRST_WORD.match(text)
    return m.group(1).rstrip(".'").upper() if m else ""


_FIRST_WORD = re.compile(r"[\s(]*([^\s,;|/&+()]+)")


@lru_cache(maxsize=1)
def _first_words() -> frozenset[str]:
    """The first word of every country name and alias the country table knows."""
    names = [*country_table().values(), *ALIASES]
    return frozenset(_first_word(n) for n in names if n.strip())
