"""What an RMAP import tells the operator when it stops: one sentence that says what to do.

Nothing is imported when a list cannot be read whole: a sheet of smelter ids without a
status, a status word Assay does not know, a value in a mark column that is not a mark.
Each message names what was found (cut to a readable length) and the option that fixes it
(``--status``, ``--map``).
"""

from __future__ import annotations

from collections import Counter

from plugins.normalize import clean_text
from plugins.rmap_status import LIST_STANDINGS

from .listtable import RefDataError, Table
from .rmap_layout import FIELD_HEADERS, MAX_MARKS_LISTED, Layout, loose_words


def check_map(status_map: dict[str, str] | None) -> dict[str, str] | None:
    if not status_map:
        return None
    out: dict[str, str] = {}
    bad = []
    for word, standing in status_map.items():
        key = clean_text(standing).casefold().replace(" ", "-").replace("_", "-")
        key = (
            "not-conformant" if key in ("nonconformant", "non-conformant", "notconformant") else key
        )
        if key not in LIST_STANDINGS:
            bad.append(f"{word}={standing}")
        out[clean_text(word)] = key
    if bad:
        raise RefDataError(
            f"--map gives a standing Assay does not know ({', '.join(bad)}); a status word maps "
            f"to one of: {', '.join(LIST_STANDINGS)}."
        )
    return out


def no_header_message() -> str:
    expected = "; ".join(
        f"{field.replace('_', ' ')}: {' / '.join(repr(n) for n in FIELD_HEADERS[field][:4])}"
        for field in ("cid", "status", "name", "metal", "country")
    )
    return (
        "No header row was found in the first rows of any sheet. A list needs a smelter id "
        "column and a status column (or, when every row has one status, --status WORD), "
        f"with names such as: {expected}."
    )


def one_column_message(layout: Layout) -> str:
    return (
        f"The list is a single column of smelter ids ({layout.headers['cid']!r}) with no "
        "status. If EVERY row has the same status (RMI's Conformant-only export, say), import "
        "it with --status WORD (e.g. --status Conformant); otherwise add a status column "
        "('Status') and import it again."
    )


def sheets_without_status(missing: list[Table], only_sheet: bool) -> str:
    names = ", ".join(repr(t.name) for t in missing)
    one = len(missing) == 1
    word = next(
        (w for w in (loose_words(t.name)[1] for t in missing) if w and len(w) <= MAX_WORD_CHARS),
        "WORD",
    )
    message = (
        f"The sheet{'' if one else 's'} {names} {'holds' if one else 'hold'} smelter ids but "
        "no status: no status column (such as 'Status' or 'RMAP Audit Status'), no column of "
        "marks headed by a status word, and a name that is not a status word. Nothing was "
        f"imported, so that no smelter is left out. Rename {'the' if one else 'each'} sheet "
        "for the status of its rows (e.g. 'Conformant', 'Active List' or 'Active - Gold'), or "
        "delete it if it is not part of the list; if its name is a status word Assay does not "
        f"know, give that word's standing with --map, e.g. --map \"{word}=conformant|active|"
        'not-conformant" (choose one).'
    )
    if only_sheet:
        message += (
            " If EVERY row of the sheet has the same status, --status WORD also gives it "
            "that status."
        )
    return message


def status_for_many_sheets(default_status: str, with_ids: list[Table]) -> str:
    names = ", ".join(repr(t.name) for t in with_ids[:10])
    more = f" and {len(with_ids) - 10} more" if len(with_ids) > 10 else ""
    return (
        f"--status {default_status!r} gives every row one status, but the workbook has "
        f"{len(with_ids)} sheets with smelter ids ({names}{more}): it would give every sheet "
        "that status. Nothing was imported. Name each sheet for the status of its rows (e.g. "
        "'Conformant', 'Active List') or give it a status column, and import the file "
        "without --status."
    )


NO_STATUS = (
    "The list has smelter ids but no status: no status column (such as 'Status', "
    "'RMAP Audit Status' or 'Assessment Status'), no column of marks headed by a status word "
    "(such as 'Conformant'), and no sheet named after a status (such as 'Active List'). "
    "If EVERY row of the file has the same status (RMI's Conformant-only export, say), import "
    "it with --status WORD (e.g. --status Conformant); if the file has a status column named "
    "otherwise, report its header so Assay can recognise it."
)


#: How many unknown status words an error lists, and how much of each.
MAX_WORDS_LISTED, MAX_WORD_CHARS = 20, 60


def cut_text(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unknown_words_message(unknown: Counter[str]) -> str:
    ranked = unknown.most_common()
    listed = ", ".join(
        f"{cut_text(word, MAX_WORD_CHARS)!r} ({n} row{'s' if n != 1 else ''})"
        for word, n in ranked[:MAX_WORDS_LISTED]
    )
    if len(ranked) > MAX_WORDS_LISTED:
        listed += f" and {len(ranked) - MAX_WORDS_LISTED} more"
    first = next((w for w, _n in ranked if len(w) <= MAX_WORD_CHARS), "WORD")
    return (
        f"The list uses status words Assay does not know: {listed}. Nothing was imported. "
        "Say what each word means with one --map per word, e.g. "
        f'--map "{first}=conformant|active|not-conformant" (choose one standing), and '
        "import the file again."
    )


def bad_marks_message(bad: Counter[str], columns: list[str]) -> str:
    ranked = bad.most_common()
    listed = ", ".join(
        f"{value!r} ({n} row{'s' if n != 1 else ''})" for value, n in ranked[:MAX_MARKS_LISTED]
    )
    if len(ranked) > MAX_MARKS_LISTED:
        listed += f" and {len(ranked) - MAX_MARKS_LISTED} more"
    return (
        f"The mark column{'' if len(columns) == 1 else 's'} {', '.join(columns)} "
        f"{'holds' if len(columns) == 1 else 'hold'} values that are not marks: {listed}. "
        "Nothing was imported, since Assay does not guess whether they mark a row. A marked "
        "cell holds *, ✓, ✔, √, x, Yes, Y, TRUE, 1 or the column's own status word; an "
        "unmarked cell is empty or No. Correct those cells (or give the sheet a 'Status' "
        "column with a status word per row) and import the file again."
    )


def mixed_note(table: Table, header: str, ambiguous: int) -> str:
    """The summary's phrase for a date column written in both orders."""
    if not ambiguous:
        left = "no date in it could be either"
    elif ambiguous == 1:
        left = "1 date that could be either (such as 03/04/2021) was left empty"
    else:
        left = f"{ambiguous} dates that could be either (such as 03/04/2021) were left empty"
    return (
        f"{table.label}: column {header!r} mixes month-first (11/19/2020) and day-first "
        f"(19/11/2020) dates; {left}"
    )
