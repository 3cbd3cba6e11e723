"""Helpers shared by the findings-made-right tests: screen a declaration, change one of its rows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plugins.manager import get_plugin_manager
from plugins.models import Declaration, Finding
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from tests.builders import AS_OF

CMRT65 = "cmrt/RMI_CMRT_6.5_zh-ui.xlsx"


def screen(decl: Declaration, ref: ReferenceData, **kw: Any) -> list[Finding]:
    return list(Screener(get_plugin_manager(), ref, as_of=AS_OF, **kw).screen(decl).findings)


def set_row(decl: Declaration, row: int, **fields: str) -> Declaration:
    return replace(
        decl,
        smelters=tuple(replace(r, **fields) if r.row == row else r for r in decl.smelters),  # type: ignore[arg-type]
    )
