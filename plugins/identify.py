"""Which template and revision a workbook is, from its cells (never its file name)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugins.layouts import TITLES
from plugins.normalize import clean_text
from plugins.workbook import Workbook

_VERSION_RE = re.compile(
    r"(?:Revision|Version|Rev\.?)\s*([0-9]+(?:\.[0-9A-Za-z]+)?)", re.IGNORECASE
)


@dataclass(frozen=True)
class Identity:
    family: str  # CMRT, EMRT, CRT, AMRT
    version: str  # "6.4", "2.03a"; "" when no revision string was found
    version_cell: str
    title: str

    @property
    def major(self) -> int:
        head = self.version.split(".")[0]
        return int(head) if head.isdigit() else 0


def parse_version(text: object) -> str:
    m = _VERSION_RE.search(clean_text(text))
    return m.group(1) if m else ""


def identify(workbook: Workbook) -> Identity | None:
    """Family from ``Revision!B3`` (English in every UI language), revision from ``Declaration!J3``."""
    if not (workbook.has("Revision") and workbook.has("Declaration")):
        return None
    title = clean_text(workbook.sheet("Revision", nrows=4)["B3"])
    family = TITLES.get(title)
    if family is None:
        return None
    declaration = workbook.sheet("Declaration")
    version = parse_version(declaration["J3"])
    cell = "Declaration!J3"
    if not version and workbook.has("Smelter List"):
        smelters = workbook.sheet("Smelter List", nrows=4)
        for addr in ("Q3", "O3"):
            version = parse_version(smelters[addr])
            if version:
                cell = f"Smelter List!{addr}"
                break
    return Identity(family, version, cell, title)
