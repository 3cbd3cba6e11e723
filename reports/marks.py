"""What the marked-up workbook says in which cell: findings gathered per flagged cell.

A finding names its cell and perhaps related cells (``"'Smelter List'!E12"``); each cell
gets one mark holding its worst severity and the first few distinct texts. Counts are
capped, so a file with 100,000 findings still gets a bounded number of comments. A cell
inside a merged range is shown at the range's top-left corner, where Excel displays it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from plugins.models import SEVERITY_RANK, Finding
from plugins.sheet import parse_ref
from program.digest import plain

from .cells import Cell, anchor
from .findings_sheet import LABELS
from .xmltext import clean

MAX_CELLS = 5_000  # flagged cells (comments) in one file
MAX_RELATED = 50  # other cells of one finding that are coloured too
MAX_NOTES_PER_CELL = 8
MAX_NOTE_MESSAGE = 1_000  # characters of a finding in a comment

Merges = list[tuple[int, int, int, int]]


@dataclass
class Mark:
    """Everything said about one cell: its worst severity and the first few texts."""

    severity: str
    texts: list[str]
    more: int = 0  # texts beyond MAX_NOTES_PER_CELL

    def add(self, severity: str, text: str) -> None:
        if SEVERITY_RANK[severity] < SEVERITY_RANK[self.severity]:
            self.severity = severity
        if text in self.texts:
            return
        if len(self.texts) < MAX_NOTES_PER_CELL:
            self.texts.append(text)
        else:
            self.more += 1

    def note(self, listing_sheet: str) -> str:
        """The comment's text; texts beyond the cap are counted and sent to the listing."""
        text = "\n\n".join(self.texts)
        if self.more:
            text += f"\n\n…and {self.more} more (see the “{listing_sheet}” sheet)."
        return text


def split_ref(ref: str) -> tuple[str, str]:
    """``"'Smelter List'!E12"`` -> ("Smelter List", "E12")."""
    sheet, bang, cell = str(ref).rpartition("!")
    if not bang:
        return "", str(ref)
    if len(sheet) >= 2 and sheet[0] == sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cell


def where(sheet: str, cell: str) -> str:
    """A finding's place as the supplier reads it (``Declaration!D8``), cleaned and capped."""
    text = f"{sheet}!{cell}" if sheet and cell else sheet or cell or "(the whole file)"
    return clean(text, 120)


def collect_marks(
    findings: Sequence[Finding], markable: Callable[[str], str | None]
) -> dict[str, dict[Cell, Mark]]:
    """Sheet name -> cell -> mark for ``findings`` (their cells and related cells).

    ``markable``: the workbook's spelling of a sheet name if its cells may be marked, else
    None (an unknown sheet, a chartsheet, our own findings sheet).
    """
    out: dict[str, dict[Cell, Mark]] = {}
    count = 0

    def add(sheet: str, cell: str, severity: str, text: str) -> None:
        nonlocal count
        name = markable(sheet)
        parsed = parse_ref(str(cell)) if cell else None
        if name is None or parsed is None:
            return
        cells = out.setdefault(name, {})
        mark = cells.get(parsed)
        if mark is not None:
            mark.add(severity, text)
        elif count < MAX_CELLS:
            count += 1
            cells[parsed] = Mark(severity, [text])

    for f in findings:
        label = LABELS[f.severity]
        message = clean(plain(f.message), MAX_NOTE_MESSAGE)
        add(f.sheet, f.cell, f.severity, f"{label}: {message}")
        place = where(f.sheet, f.cell)
        for ref in list(getattr(f, "related", ()) or ())[:MAX_RELATED]:
            sheet, cell = split_ref(ref)
            add(sheet, cell, f.severity, f"{label} (about {place}): {message}")
    return out


def anchored(marks: dict[Cell, Mark], merges: Merges) -> dict[Cell, Mark]:
    """``marks`` moved to the cells Excel shows (a merged range's corner), merged there."""
    cells: dict[Cell, Mark] = {}
    for cell, mark in marks.items():
        shown = anchor(cell, merges)
        if shown not in cells:
            cells[shown] = Mark(mark.severity, list(mark.texts), mark.more)
            continue
        for text in mark.texts:
            cells[shown].add(mark.severity, text)
        cells[shown].more += mark.more
    return cells
