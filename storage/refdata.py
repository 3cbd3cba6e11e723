"""Reference data files: the embedded smelter list and CAHRA list, and importers of the lists
operators hold (RMAP status lists, smelter reference lists, the EU's CAHRA list).

The importers live in their own modules and are re-exported here, each imported on first use
(screening needs only the embedded lists):

- :mod:`storage.listfiles`: the lists' opener, any sheet or CSV as rows (:func:`read_tables`);
- :mod:`storage.rmap_import`: RMAP status lists (:func:`parse_rmap_file`);
- :mod:`storage.smelter_import`: Smelter Look-up sheets and RMI's Smelter Reference List;
- :mod:`storage.cahra_import`: the EU's indicative CAHRA list.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugins.reference import ReferenceData, SmelterRef

if TYPE_CHECKING:
    from .cahra_import import CahraImport, parse_cahra_file
    from .listcells import repair_cid
    from .listdates import find_date, parse_list_date
    from .listfiles import read_tables
    from .listtable import RefDataError, Table
    from .rmap_import import Conflict, Repair, RmapImport, Skipped, parse_rmap_file
    from .smelter_import import SmelterImport, parse_smelter_file

#: The importers, loaded on first use (``assay screen`` needs only the embedded lists).
_LAZY = {
    "CahraImport": "cahra_import",
    "parse_cahra_file": "cahra_import",
    "repair_cid": "listcells",
    "find_date": "listdates",
    "parse_list_date": "listdates",
    "read_tables": "listfiles",
    "RefDataError": "listtable",
    "Table": "listtable",
    "Conflict": "rmap_import",
    "Repair": "rmap_import",
    "RmapImport": "rmap_import",
    "Skipped": "rmap_import",
    "parse_rmap_file": "rmap_import",
    "SmelterImport": "smelter_import",
    "parse_smelter_file": "smelter_import",
}
_DATA = Path(__file__).with_name("data")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


__all__ = [
    "CahraImport",
    "Conflict",
    "RefDataError",
    "Repair",
    "RmapImport",
    "Skipped",
    "SmelterImport",
    "Table",
    "date_from_name",
    "embedded_cahra_as_of",
    "embedded_reference",
    "find_date",
    "load_embedded_cahra",
    "load_embedded_smelters",
    "parse_cahra_file",
    "parse_list_date",
    "parse_rmap_file",
    "parse_smelter_file",
    "read_tables",
    "repair_cid",
]


@lru_cache(maxsize=1)
def load_embedded_smelters() -> tuple[str, dict[str, SmelterRef]]:
    """The embedded smelter reference list (read once per process; treat as read-only)."""
    raw = json.loads((_DATA / "smelters.json").read_text("utf-8"))
    smelters = {
        s["cid"]: SmelterRef(
            s["cid"], s["metal"], s["name"], s["country"], tuple(s.get("aliases", ()))
        )
        for s in raw["smelters"]
    }
    return str(raw["version"]), smelters


def load_embedded_cahra() -> tuple[str, frozenset[str]]:
    raw = json.loads((_DATA / "cahra.json").read_text("utf-8"))
    return str(raw["version"]), frozenset(raw["countries"])


def date_from_name(name: str) -> dt.date | None:
    """A full date written in a file name (``facilities-2025-05-01.xlsx``); else None."""
    from .listdates import find_date  # the module's own name is lazy (``__getattr__``)

    return find_date(name)


def embedded_cahra_as_of() -> dt.date | None:
    """The embedded CAHRA list's date (for the age warning)."""
    raw = json.loads((_DATA / "cahra.json").read_text("utf-8"))
    return dt.date.fromisoformat(raw["as_of"]) if raw.get("as_of") else None


def embedded_reference() -> ReferenceData:
    """The reference data an installed Assay has without a database: the embedded smelter
    list and CAHRA list, no RMAP list."""
    version, smelters = load_embedded_smelters()
    cahra_version, cahra = load_embedded_cahra()
    return ReferenceData(
        smelters, version, (), cahra, cahra_version, cahra_as_of=embedded_cahra_as_of()
    )
