"""RMAP status lists as people hold them: RMI's exports, filings' tables, hand-made sheets.

A list is read sheet by sheet. In each, the header row is found among the first rows by
the column names it uses (compared loosely: case, punctuation and odd spaces ignored),
and the status of a row comes from, in this order:

1. a status column ("Status", "RMAP Audit Status", ...; or "Type" when it holds status words);
2. mark columns: a column headed by a status word ("Conformant", "Active") whose marked
   cells (``*``, ``✓``, ``x``, ``Yes``, ``1``, the column's own word, ...) give that status;
   empty (or "No") everywhere: "Not marked"; any other value stops the import;
3. the sheet's name, when it is a status word once metal names, filler words and
   punctuation are dropped (``Conformant``, ``Active List``, ``Active - Gold``,
   ``RMAP Conformant (Tin)``, ``Conformant Smelters & Refiners``);
4. ``default_status`` (``--status``), for a file whose EVERY row has that status: a CSV,
   or the only sheet of a workbook holding smelter ids.

A sheet of smelter ids with none of these stops the import (a list is never read with a
sheet silently left out); sheets without a recognised header (a cover, notes) are named
as ignored. RMI's words are kept as the list gives them; the standing they mean comes from
:mod:`plugins.rmap_status`, and a word it does not know stops the import (nothing is
guessed from spelling). Smelter ids with stray spaces, invisible characters, lower case,
missing zeros or no ``CID`` at all (a number: ``2082``) are repaired and reported, one
repair per id; ids that are not a CID are skipped and named. ``n/n/yyyy`` dates are read in
one order per column: day first where a cell's first number is above 12.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from plugins.normalize import clean_text
from plugins.reference import RmapEntry, SmelterRef
from plugins.rmap_status import canonical_metal, less_favourable, standing_of, status_key

from .listcells import ODD_CHARS, header_key, row_text
from .listdates import (
    add_months,
    cycle_months,
    date_in_cells,
    find_date,
    is_ambiguous_slash,
    is_blank_date,
    parse_list_date,
)
from .listfiles import read_tables
from .listtable import RefDataError, Table, Value
from .rmap_layout import (
    FIELD_KEYS,
    MAX_MARK_CHARS,
    NOT_MARKED,
    NOT_MARKED_STANDING,
    Layout,
    Source,
    cell_at,
    date_orders,
    find_layout,
    has_ids,
    read_id,
    read_mark,
    safe_text,
    status_source,
)
from .rmap_messages import (
    NO_STATUS,
    bad_marks_message,
    check_map,
    cut_text,
    mixed_note,
    no_header_message,
    one_column_message,
    sheets_without_status,
    status_for_many_sheets,
    unknown_words_message,
)
from .smelter_import import repair_garbled


@dataclass(frozen=True)
class Skipped:
    """A row not imported, and why ("no smelter id", "not a CID ...", "no status")."""

    where: str  # "sheet 'Active List' row 14", or "row 14" in a CSV
    text: str  # the id cell as cleaned text
    reason: str


@dataclass(frozen=True)
class Repair:
    """A smelter id read after a repair; one record per id, naming every fix."""

    where: str
    raw: str  # the cell as typed, repr-safe: "\\uffa0CID002082"
    cid: str
    #: the fixes, joined: "invisible character U+FFA0 removed", "upper-cased, zeros padded"
    what: str


@dataclass(frozen=True)
class Conflict:
    """One CID with different statuses in one import; the least favourable standing is kept."""

    cid: str
    statuses: tuple[str, ...]  # RMI's words seen, in order
    kept: str  # the status kept
    where: tuple[str, ...]


@dataclass(frozen=True)
class RmapImport:
    """An RMAP list as read, with everything an operator should be told about it."""

    entries: dict[str, RmapEntry]
    #: canonical metals of the rows: the row's metal column, else the smelter reference's
    metals: frozenset[str]
    #: the list's own date: a dated title row above the header, else a full date in the
    #: file name; never today
    as_of: dt.date | None
    as_of_source: str  # "title row 'RMAP ... as of May 1, 2025'", "file name" or ""
    #: what was read and what was ignored, one phrase per table; then one per date column
    #: that mixes month-first and day-first dates
    sources: tuple[str, ...]
    columns: dict[str, str]  # field -> header text used (first table read)
    conflicts: tuple[Conflict, ...]
    repairs: tuple[Repair, ...]
    skipped: tuple[Skipped, ...]
    dates_unparsed: int  # non-empty date cells that could not be read
    unmarked: int  # rows read through a mark column that carry no mark


# -- the import ------------------------------------------------------------------------------


@dataclass
class _Seen:
    status: str
    standing: str
    entry: RmapEntry
    where: str


@dataclass
class _Found:
    """What the rows of every table gave, gathered as they are read."""

    status_map: dict[str, str] | None
    smelters: dict[str, SmelterRef] | None
    unknown: Counter[str] = field(default_factory=Counter)
    bad_marks: Counter[str] = field(default_factory=Counter)
    bad_columns: dict[str, None] = field(default_factory=dict)  # mark columns, in order
    seen: dict[str, list[_Seen]] = field(default_factory=dict)
    repairs: list[Repair] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    dates_unparsed: int = 0
    unmarked: int = 0


_Plan = tuple[Table, Layout, Source | None, bool]  # (table, layout, status source, has ids)


def parse_rmap_file(
    path: Path,
    *,
    default_status: str = "",
    status_map: dict[str, str] | None = None,
    smelters: dict[str, SmelterRef] | None = None,
) -> RmapImport:
    """Read an RMAP status list; :class:`RefDataError` with a sentence when it cannot be used.

    ``default_status``: the status of every row (``--status``) of a CSV, or of the only
    sheet of a workbook holding smelter ids, when it has no status of its own; refused for a
    workbook with two or more sheets of ids.
    ``status_map``: further status words and their standing (``--map WORD=STANDING``).
    ``smelters``: the smelter reference, for the metal of rows that do not name one.
    """
    found = _Found(check_map(status_map), smelters)
    default_status = clean_text(default_status)
    tables = read_tables(path)
    if {"Declaration", "Smelter List"} <= {t.name for t in tables}:
        raise RefDataError(
            "The file is an RMI reporting template (it has Declaration and Smelter List "
            "sheets), not an RMAP status list: screen it with 'assay screen'. An RMAP list is "
            "RMI's facilities export, with a smelter id and a status per smelter."
        )
    if default_status and not standing_of(default_status, found.status_map):
        raise RefDataError(
            f"--status {default_status!r} is not a status word Assay knows; give its standing "
            f'too, e.g. --map "{default_status}=conformant|active|not-conformant" (choose one).'
        )
    plans, as_of, as_of_source = _plan(tables, default_status, found)
    given: Source = (None, [], default_status, f"status {default_status!r} given for every row")
    for table, layout, maybe_source, ids in plans:
        if maybe_source is None and not ids:
            # a header, but no smelter id below it and no status: its rows are named skipped
            maybe_source = (None, [], "", "no smelter id below the header")
        source = given if maybe_source is None else maybe_source
        status_col, marks, _fixed, _how = source
        if not found.columns and ids:
            found.columns = dict(layout.headers)
            if marks:
                found.columns["status"] = ", ".join(w for _c, w in marks) + " (marks)"
            elif status_col is not None:
                found.columns["status"] = clean_text(table.rows[layout.header][status_col])
        _read_table(table, layout, source, found)

    if found.bad_marks:
        raise RefDataError(bad_marks_message(found.bad_marks, list(found.bad_columns)))
    if found.unknown:
        raise RefDataError(unknown_words_message(found.unknown))
    if not found.seen:
        skipped = found.skipped
        example = f", e.g. {skipped[0].where}: {skipped[0].reason}" if skipped else ""
        raise RefDataError(
            "The header was recognised but no row could be imported: a list needs rows with "
            f"a smelter id of the form CID000000 and a status ({len(skipped)} row(s) "
            f"skipped{example})."
        )
    entries, conflicts = _settle(found.seen)
    if as_of is None:
        as_of = find_date(path.name)
        as_of_source = "file name" if as_of else ""
    return RmapImport(
        entries=entries,
        metals=frozenset(e.metal for e in entries.values() if e.metal),
        as_of=as_of,
        as_of_source=as_of_source,
        sources=tuple(found.sources),
        columns=found.columns,
        conflicts=tuple(conflicts),
        repairs=tuple(found.repairs),
        skipped=tuple(found.skipped),
        dates_unparsed=found.dates_unparsed,
        unmarked=found.unmarked,
    )


def _plan(
    tables: list[Table], default_status: str, found: _Found
) -> tuple[list[_Plan], dt.date | None, str]:
    """Every table's header, status source and ids, before any row is read: no sheet of
    smelter ids is left out silently, and --status never gives one status to several sheets.
    Also the list's date from a title row above a header, and where it was found."""
    as_of: dt.date | None = None
    as_of_source = ""
    plans: list[_Plan] = []
    for table in tables:
        layout = find_layout(table.rows, found.status_map)
        if layout is None:
            found.sources.append(f"{table.label}: ignored, no header row with a smelter id column")
            continue
        if as_of is None:
            for title in table.rows[: layout.header]:
                date = date_in_cells(title)
                if date:
                    as_of, as_of_source = date, f"title row {row_text(title)!r}"
                    break
        source = status_source(table, layout, found.status_map)
        plans.append((table, layout, source, has_ids(table, layout)))
    if not plans:
        raise RefDataError(no_header_message())
    with_ids = [table for table, _l, _s, ids in plans if ids]
    workbook = any(table.kind == "sheet" for table in tables)
    if default_status and workbook and len(with_ids) > 1:
        raise RefDataError(status_for_many_sheets(default_status, with_ids))
    missing = [(table, layout) for table, layout, source, ids in plans if ids and source is None]
    if missing and not default_status:
        if not workbook:
            table, layout = missing[0]
            raise RefDataError(one_column_message(layout) if layout.id_only else NO_STATUS)
        raise RefDataError(sheets_without_status([t for t, _l in missing], len(with_ids) == 1))
    return plans, as_of, as_of_source


def _read_table(table: Table, layout: Layout, source: Source, found: _Found) -> None:
    rows = table.rows
    orders, date_notes, ambiguous = date_orders(table, layout)
    read = 0
    for index in range(layout.header + 1, len(rows)):
        row = rows[index]
        if any(clean_text(c) for c in row):
            read += _read_row(row, table.where(index + 1), layout, source, orders, ambiguous, found)
    found.sources.append(
        f"{table.label}: {read} row{'' if read == 1 else 's'}, {source[3]}"
        + "".join(f", {note}" for note in date_notes)
    )
    for name, order in orders.items():
        if order == "mixed":
            found.sources.append(mixed_note(table, layout.headers[name], ambiguous[name]))


def _read_row(
    row: list[Value],
    where: str,
    layout: Layout,
    source: Source,
    orders: dict[str, str],
    ambiguous: Counter[str],
    found: _Found,
) -> int:
    """One row's entries (one per status word it gives) into ``found``; 1 when it was read,
    0 when skipped."""
    cols = layout.cols
    status_col, marks, fixed, _how = source
    id_cell = cell_at(row, cols["cid"])
    id_text = clean_text(id_cell)
    if not id_text:
        found.skipped.append(Skipped(where, "", "no smelter id"))
        return 0
    cid, what = read_id(id_cell)
    if cid is None:
        reason = (
            "the header repeated"
            if header_key(id_text) in FIELD_KEYS["cid"]
            else "not a CID (a smelter id is CID and six digits, e.g. CID002082)"
        )
        found.skipped.append(Skipped(where, id_text, reason))
        return 0
    words: list[str]
    if marks:
        words = []
        for col, word in marks:
            marked = read_mark(cell_at(row, col), word)
            if marked is None:
                found.bad_marks[cut_text(clean_text(cell_at(row, col)), MAX_MARK_CHARS)] += 1
                found.bad_columns.setdefault(f"{word!r}", None)
            elif marked:
                words.append(word)
        if not words:
            words = [NOT_MARKED]
            found.unmarked += 1
    elif status_col is not None:
        word = clean_text(cell_at(row, status_col))
        if not word:
            found.skipped.append(Skipped(where, id_text, "no status"))
            return 0
        words = [word]
    else:
        words = [fixed]
    if what:
        found.repairs.append(Repair(where, safe_text(str(id_cell)), cid, ", ".join(what)))
    name = _clean_name(cell_at(row, cols.get("name")))
    ref = found.smelters.get(cid) if found.smelters else None
    if ref is not None and ("?" in name or "\ufffd" in name):
        name = repair_garbled(name, (ref.name, *ref.aliases)) or name
    metal = canonical_metal(cell_at(row, cols.get("metal"))) or (
        canonical_metal(ref.metal) if ref else ""
    )
    dates: list[dt.date | None] = []
    for column in ("last_assessment", "next_assessment"):
        value = cell_at(row, cols.get(column))
        date = parse_list_date(value, orders.get(column, ""))
        if date is None and not is_blank_date(value):
            found.dates_unparsed += 1
            if orders.get(column) == "mixed" and is_ambiguous_slash(value):
                ambiguous[column] += 1
        dates.append(date)
    last, following = dates
    cycle = clean_text(cell_at(row, cols.get("audit_cycle")))
    if "next_assessment" not in cols and last and cycle:
        months = cycle_months(cycle)
        following = add_months(last, months) if months else None
    for word in words:
        standing = (
            NOT_MARKED_STANDING if word == NOT_MARKED else standing_of(word, found.status_map)
        )
        if standing is None:
            found.unknown[word] += 1
            continue
        entry = RmapEntry(
            cid=cid,
            status=word,
            name=name,
            metal=metal,
            country=clean_text(cell_at(row, cols.get("country"))),
            last_assessment=last,
            next_assessment=following,
            audit_cycle=cycle,
            standing=standing,
        )
        found.seen.setdefault(cid, []).append(_Seen(word, standing, entry, where))
    return 1


def _settle(seen: dict[str, list[_Seen]]) -> tuple[dict[str, RmapEntry], list[Conflict]]:
    """One entry per CID: of several statuses, the least favourable standing is kept."""
    entries: dict[str, RmapEntry] = {}
    conflicts: list[Conflict] = []
    for cid, sightings in seen.items():
        kept = sightings[0]
        for other in sightings[1:]:
            if less_favourable(other.standing, kept.standing) == other.standing and (
                other.standing != kept.standing
            ):
                kept = other
        entries[cid] = kept.entry
        words = list(dict.fromkeys(s.status for s in sightings))
        keys = {status_key(w) for w in words}
        if len(keys) > 1:
            conflicts.append(
                Conflict(cid, tuple(words), kept.status, tuple(s.where for s in sightings))
            )
    return entries, conflicts


def _clean_name(value: Value) -> str:
    text = value if isinstance(value, str) else clean_text(value)
    return clean_text(ODD_CHARS.sub(" ", text))
