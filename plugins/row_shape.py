"""Whether a Smelter List row's values sit in their own columns (used by the smelter-rows check).

Real files show rows whose values slid by a column when a block was pasted: the CID is
there, but the country is blank and the mine-country column says "Ta scrap", or the mine
names column holds "Rwanda". Only clear signals count, so a normally filled row (the
template's own look-up, or a typed CID) is never flagged:

- *strong* (one is enough): a smelter name that is a country ("CHINA"); "Yes" or "No" in
  the mine-country column (the answers of the recycled column); a country in the
  recycled column;
- *weak* (two are needed): the country blank although column F holds the CID (values
  pasted without the template's formulas); mine-country text that is neither a country
  nor one of RMI's codes; mine names that are only countries while the mine-country
  column names none.

Only rows with a CID are judged: a "Smelter not listed" row without a country is already
an incomplete row.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.mine_countries import is_country_text, read_mine_countries
from plugins.models import SmelterRow
from plugins.normalize import is_cid

_ANSWERS = {"yes", "no"}
MAX_QUOTED = 60


def quote(text: str) -> str:
    """``'text'`` for a message, cut to ``MAX_QUOTED`` characters."""
    cut = text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 1] + "…"
    return "'" + cut.replace("'", "’") + "'"


@dataclass(frozen=True)
class Signal:
    cell: str  # "O12"
    says: str  # "O12 (mine country) says 'Ta scrap'"
    strong: bool


def shift_signals(r: SmelterRow, letter: dict[str, str]) -> list[Signal]:
    """The signals that ``r``'s values are in the wrong columns; [] unless they are clear."""
    if not is_cid(r.smelter_id):
        return []
    out: list[Signal] = []

    def add(field: str, label: str, rest: str, strong: bool) -> None:
        if field in letter:
            cell = f"{letter[field]}{r.row}"
            out.append(Signal(cell, f"{cell} ({label}) {rest}", strong))

    if r.name and is_country_text(r.name):
        add("name", "smelter name", f"says {quote(r.name)}, a country", True)
    if not r.country and r.id_source == "F":
        add("country", "country", "is blank", False)
    mine = read_mine_countries(r.mine_countries) if r.mine_countries else None
    if mine is not None:
        said = f"says {quote(r.mine_countries)}"
        if r.mine_countries.casefold() in _ANSWERS:
            add("mine_countries", "mine country", said, True)
        elif mine.unclear and not mine.countries and not mine.codes:
            add("mine_countries", "mine country", said, False)
    named = mine is not None and bool(mine.countries or mine.codes)
    if r.mine_names and is_country_text(r.mine_names) and not named:
        add("mine_names", "mine names", f"says {quote(r.mine_names)}, a country", False)
    if r.recycled and is_country_text(r.recycled):
        add("recycled", "recycled or scrap", f"says {quote(r.recycled)}, a country", True)
    if any(s.strong for s in out) or len(out) >= 2:
        return out
    return []
