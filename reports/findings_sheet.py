"""The "Assay findings" worksheet: one row per finding, each with a link to its cell.

Every text is an inline string (``t="inlineStr"``): the workbook's shared-strings part stays
untouched, and an inline string is never a formula, whatever it starts with (``=``, ``+``,
``-``, ``@``); the text formats also carry ``quotePrefix`` so that editing such a cell in
Excel keeps it text. "Where" links are internal (``location=``), which need no relationship.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .styles import SheetStyles
from .xmltext import esc, esc_attr

LABELS = {"error": "Error", "risk": "Risk", "warning": "Warning"}
WHAT_TO_DO = {
    "error": "Correct this and send the file again",
    "risk": "Our compliance team will follow up; no change needed unless the entry is wrong",
    "warning": "Please check and improve",
}
HEADERS = ("Severity", "Where", "Finding", "What to do")
_WIDTHS = (11, 26, 90, 46)
FIRST_ROW = 4  # title, note, header, then findings


@dataclass(frozen=True)
class Line:
    """One listed finding, its texts already cleaned."""

    severity: str
    where: str  # what the "Where" cell shows
    location: str | None  # the link target, "'Smelter List'!E12"; None: no link
    message: str


def _text(ref: str, style: int, text: str) -> str:
    return (
        f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{esc(text)}</t>'
        f"</is></c>"
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(counts: dict[str, int]) -> str:
    parts = [_plural(counts.get(s, 0), s) for s in LABELS if counts.get(s, 0)]
    if not parts:
        return "No errors, risks or warnings were found."
    if len(parts) == 1:
        return f"{parts[0]}."
    return f"{', '.join(parts[:-1])} and {parts[-1]}."


def findings_sheet(
    lines: Sequence[Line], *, title: str, counts: dict[str, int], more: int, styles: SheetStyles
) -> bytes:
    """The worksheet XML. ``more``: findings left out of the list (beyond the cap)."""
    rows = [
        f'<row r="1">{_text("A1", styles.title, title)}</row>',
        '<row r="2">'
        + _text(
            "A2",
            styles.note,
            f"{summary(counts)} Click a place under “Where” to go to the cell; flagged cells "
            "are coloured by severity and carry a comment.",
        )
        + "</row>",
        '<row r="3">'
        + "".join(
            _text(f"{col}3", styles.header, h) for col, h in zip("ABCD", HEADERS, strict=True)
        )
        + "</row>",
    ]
    links = []
    n = FIRST_ROW
    for line in lines:
        cells = [
            _text(f"A{n}", styles.severity[line.severity], LABELS[line.severity]),
            _text(f"B{n}", styles.link if line.location else styles.body, line.where),
            _text(f"C{n}", styles.body, line.message),
            _text(f"D{n}", styles.body, WHAT_TO_DO[line.severity]),
        ]
        rows.append(f'<row r="{n}">{"".join(cells)}</row>')
        if line.location:
            links.append(
                f'<hyperlink ref="B{n}" location="{esc_attr(line.location)}" '
                f'display="{esc_attr(line.where)}"/>'
            )
        n += 1
    if not lines:
        rows.append(f'<row r="{n}">{_text(f"C{n}", styles.body, summary({}))}</row>')
        n += 1
    if more:
        text = f"…and {more} more, not listed here (the e-mail lists them by kind)."
        rows.append(f'<row r="{n}">{_text(f"C{n}", styles.body, text)}</row>')
        n += 1
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(_WIDTHS, start=1)
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheetPr><tabColor rgb="FFC00000"/></sheetPr>'
        f'<dimension ref="A1:D{n - 1}"/>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{FIRST_ROW - 1}" topLeftCell="A{FIRST_ROW}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="B{FIRST_ROW}" sqref="B{FIRST_ROW}"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols>"
        f"<sheetData>{''.join(rows)}</sheetData>"
        + (f"<hyperlinks>{''.join(links)}</hyperlinks>" if links else "")
        + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup orientation="landscape"/>'
        "</worksheet>"
    )
    return xml.encode("utf-8")
