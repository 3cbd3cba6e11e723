"""Countries: the template's own country list, common aliases, and the covered countries.

The country table (ISO-2 code and the upper-case name the templates use) is generated
from the hidden ``C`` sheet of the RMI templates into ``plugins/data/countries.json`` by
``scripts/build_refdata.py``. The Dodd-Frank covered countries are built in: they are
fixed by statute (the DRC and the nine countries sharing a border with it). The CAHRA
list, which changes, is data held by the store.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

COVERED_COUNTRIES: frozenset[str] = frozenset(
    {"CD", "AO", "BI", "CF", "CG", "RW", "SS", "TZ", "UG", "ZM"}
)

# Spellings suppliers type that are not the template's list names.
ALIASES = {
    "DRC": "CD",
    "DR CONGO": "CD",
    "D R CONGO": "CD",
    "DEMOCRATIC REPUBLIC OF CONGO": "CD",
    "DEMOCRATIC REPUBLIC OF THE CONGO": "CD",
    "CONGO DRC": "CD",
    "CONGO KINSHASA": "CD",
    "CONGO BRAZZAVILLE": "CG",
    "REPUBLIC OF THE CONGO": "CG",
    "REPUBLIC OF CONGO": "CG",
    "TANZANIA": "TZ",
    "USA": "US",
    "UNITED STATES": "US",
    "UK": "GB",
    "UNITED KINGDOM": "GB",
    "SOUTH KOREA": "KR",
    "KOREA": "KR",
    "NORTH KOREA": "KP",
    "RUSSIA": "RU",
    "TAIWAN": "TW",
    "VIETNAM": "VN",
    "BOLIVIA": "BO",
    "IRAN": "IR",
    "LAOS": "LA",
    "CAR": "CF",
    "SYRIA": "SY",
    "VENEZUELA": "VE",
    "MOLDOVA": "MD",
    "CZECH REPUBLIC": "CZ",
    "IVORY COAST": "CI",
    "COTE D'IVOIRE": "CI",
    "TURKEY": "TR",
    "BURMA": "MM",
}


@lru_cache(maxsize=1)
def country_table() -> dict[str, str]:
    """ISO-2 code -> upper-case name as in the templates."""
    # A file beside this module (importlib.resources would cost more to import than the read).
    raw = (Path(__file__).parent / "data" / "countries.json").read_text("utf-8")
    return dict(json.loads(raw))


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    index = {_key(name): code for code, name in country_table().items()}
    index.update({_key(alias): code for alias, code in ALIASES.items()})
    index.update({code: code for code in country_table()})
    return index


def warm() -> None:
    """Load the country names now rather than at the first look-up."""
    _name_index()


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w']+", " ", text.upper()).split())


@lru_cache(maxsize=4096)
def country_code(text: str) -> str:
    """ISO-2 code of a country name, alias or code; ``""`` when unknown."""
    if not text:
        return ""
    return _name_index().get(_key(text), "")


def country_name(code: str) -> str:
    return country_table().get(code, code)


_INVERTED = re.compile(r"^(.+), ((?:THE )?[A-Z' ]+ OF(?: THE)?)$")
_SMALL_WORDS = re.compile(r"(?<=\S )(Of|The|And|Da|Du)\b")


@lru_cache(maxsize=512)
def display_country(code: str) -> str:
    """A country as a sentence names it: "Rwanda", "the Democratic Republic of the Congo
    (DRC)", "United Republic of Tanzania" (the template's names are upper-case and inverted)."""
    if code == "CD":
        return "the Democratic Republic of the Congo (DRC)"
    name = country_name(code)
    m = _INVERTED.match(name)
    if m:
        name = f"{m.group(2)} {m.group(1)}"
    name = name.title().replace("D'I", "d'I")
    return _SMALL_WORDS.sub(lambda m: m.group(1).lower(), name)


_SPLIT = re.compile(r"[,;/\n|]+|\band\b", re.IGNORECASE)


def countries_in_text(text: str) -> list[str]:
    """ISO-2 codes named in a free-text list such as ``"Australia, Brazil, Rwanda"``.

    A whole-text match is tried first, because template names contain commas
    (``"CONGO, DEMOCRATIC REPUBLIC OF THE"``).
    """
    if not text:
        return []
    whole = country_code(text)
    if whole:
        return [whole]
    found: list[str] = []
    parts = [p.strip() for p in _SPLIT.split(text) if p.strip()]
    i = 0
    while i < len(parts):
        # Re-join "CONGO" + "DEMOCRATIC REPUBLIC OF THE" style pairs split on their comma.
        if i + 1 < len(parts) and country_code(parts[i] + ", " + parts[i + 1]):
            found.append(country_code(parts[i] + ", " + parts[i + 1]))
            i += 2
            continue
        code = country_code(parts[i])
        if code:
            found.append(code)
        i += 1
    return list(dict.fromkeys(found))
