"""Reader for every modern RMI template: CMRT 6.x, EMRT 1.x/2.x, CRT 2.x, AMRT 1.x.

One reader driven by the cell maps in :mod:`plugins.layouts`. The UI language does not
matter: values are read by address, and drop-down answers are English in every language.
An unknown newer revision is read with the newest map of its family and flagged by the
template check.
"""

from __future__ import annotations

from plugins.hookspecs import hookimpl
from plugins.identify import identify
from plugins.layouts import Layout
from plugins.list_sheets import read_mines, read_products, read_smelters
from plugins.models import Answer, Declaration, TemplateMeta
from plugins.normalize import (
    canonical_choice,
    clean_answer,
    clean_text,
    parse_date,
    strip_required_marker,
)
from plugins.versions import select_layout
from plugins.workbook import FileProblem, Sheet, Workbook


def _minerals(layout: Layout, decl: Sheet) -> tuple[str, ...]:
    """Minerals per question slot: fixed for CMRT/CRT/EMRT 1.x, chosen on the form otherwise."""
    if layout.minerals:
        return layout.minerals
    # Cached slot labels ("Cobalt(*)") are what the supplier saw; use them when present.
    first_q = layout.questions[0]
    labels = [strip_required_marker(decl.get(r, layout.slot_label_col)) for r in first_q.rows if r]
    if any(labels):
        return tuple(label for label in labels if label)
    # No cached values (file saved by a tool that does not compute formulas): sort the
    # selection alphabetically, as the template's hidden sorting network does.
    chosen: list[str] = []
    for addr in layout.selection_cells:
        text = clean_text(decl[addr])
        if not text or text.startswith("(Delete") or text.startswith("Other"):
            continue
        chosen.append(text)
    for addr in layout.other_mineral_cells:
        text = clean_text(decl[addr])
        if text:
            chosen.append(text)
    return tuple(sorted(dict.fromkeys(chosen), key=str.casefold))[: len(first_q.rows)]


def _answer(
    decl: Sheet,
    question: str,
    row: int,
    allowed: tuple[str, ...],
    mineral: str = "",
    links: dict[str, str] | None = None,
) -> Answer:
    raw = decl[f"D{row}"]
    value = canonical_choice(clean_answer(raw), allowed)
    return Answer(
        question=question,
        value=value,
        cell=f"D{row}",
        mineral=mineral,
        comment=clean_text(decl[f"G{row}"]),
        comment_cell=f"G{row}",
        raw=clean_text(raw),
        # A comment cell showing a title may link to the URL itself (python-calamine reads
        # only the title): the link is kept beside the text.
        comment_url=(links or {}).get(f"G{row}", ""),
    )


def read_declaration(workbook: Workbook, layout: Layout, meta: TemplateMeta) -> Declaration:
    decl = workbook.sheet("Declaration")
    company = {name: clean_text(decl[addr]) for name, addr in layout.company_cells.items()}
    date_raw = decl[layout.company_cells["effective_date"]]
    effective = parse_date(date_raw)
    company["effective_date"] = effective.isoformat() if effective else clean_text(date_raw)
    minerals = _minerals(layout, decl)
    links = workbook.hyperlinks("Declaration")
    answers: list[Answer] = []
    for q in layout.questions:
        for slot, mineral in enumerate(minerals):
            row = q.rows[slot] if slot < len(q.rows) else None
            if row is not None:
                answers.append(_answer(decl, q.id, row, q.allowed, mineral, links))
    company_answers: list[Answer] = []
    for cq in layout.company_questions:
        if cq.per_mineral_rows:
            for slot, mineral in enumerate(minerals[: len(cq.per_mineral_rows)]):
                company_answers.append(
                    _answer(decl, cq.id, cq.per_mineral_rows[slot], cq.allowed, mineral, links)
                )
        elif cq.row is not None:
            company_answers.append(_answer(decl, cq.id, cq.row, cq.allowed, cq.mineral, links))
    smelters, uncached = read_smelters(workbook, layout)
    return Declaration(
        meta=TemplateMeta(
            type=meta.type,
            version=meta.version,
            layout=meta.layout,
            known_version=meta.known_version,
            language=clean_text(decl["D3"]),
            version_cell=meta.version_cell,
            uncached_formulas=uncached,
        ),
        company=company,
        company_cells=dict(layout.company_cells),
        effective_date=effective,
        effective_date_raw=clean_text(date_raw),
        minerals=minerals,
        answers=tuple(answers),
        company_answers=tuple(company_answers),
        smelters=smelters,
        products=read_products(workbook, layout),
        mines=read_mines(workbook, layout),
    )


@hookimpl
def assay_read_template(workbook: Workbook, container: str) -> Declaration | None:
    if container != "xlsx":
        return None  # .xls: the legacy reader answers
    ident = identify(workbook)
    if ident is None:
        return None
    if ident.family == "CMRT" and 0 < ident.major < 6:
        return None  # EICC-GeSI 2.x/3.x: the legacy reader answers
    layout, known = select_layout(ident.family, ident.version or "99")
    if layout is None:
        raise FileProblem(
            "unsupported-template-version",
            f"This {ident.family} revision ({ident.version or 'unknown'}) is older than any we can "
            f"screen. Please fill in the current {ident.family} from responsibleminerals.org.",
        )
    if not workbook.has("Declaration"):
        raise FileProblem("not-a-template", "The workbook has no Declaration sheet.")
    meta = TemplateMeta(
        type=ident.family,
        version=ident.version or "unknown",
        layout=layout.id,
        known_version=known,
        version_cell=ident.version_cell,
    )
    return read_declaration(workbook, layout, meta)
