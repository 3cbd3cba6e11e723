"""What a busy reader needs from a screening: findings grouped by what to do, then by smelter.

A real 40-row CMRT screens to ~170 findings, most of them one per row per mine country.
Nobody acts on 170 lines. This module folds them into *items*: one per Declaration finding
(each is its own question), one per smelter (all of that smelter's issues on one line,
whatever the number of rows and countries behind it), and summarises the supply-chain risks
as counts with names. The e-mail reply, the compliance channel's thread and the marked-up
workbook's summary all read the same items, so they never disagree.

Plain words only: no finding codes, list identifiers or match scores in an item's text
(codes stay on the item for a footer). Pure: findings and a declaration in, values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from plugins.countries import COVERED_COUNTRIES, display_country
from plugins.mine_countries import read_mine_countries
from plugins.models import (
    SEVERITY_RANK,
    Declaration,
    Finding,
    ScreeningResult,
    SmelterRow,
    split_cell,
)
from program.outbox import (
    Counts,
    DetailsFile,
    HighRisk,
    Submission,
    SubmissionDetails,
    SubmissionFile,
)

SMELTER_SHEET = "Smelter List"
MAX_ALERT_NAME = 200  # a name in an alert payload
MAX_ALERT_SMELTERS = 20  # high-risk smelters in a submission's thread
MAX_ALERT_ITEMS = 5  # points to correct in a submission's thread
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
MAX_NAMES = 5  # smelters named in one risk line, then "and N more"

#: What an issue is, in a few words, when it sits on a smelter's line (the smelter is named
#: once at the start of the line, so these never repeat its name or row).
PHRASES: dict[str, str] = {
    "smelter-not-conformant": "not RMAP conformant",
    "smelter-in-covered-country": "located in the DRC or an adjoining country",
    "mine-in-covered-country": "mine countries in the DRC or adjoining countries",
    "mine-in-cahra": "mine countries in conflict-affected or high-risk areas",
    "unknown-smelter-id": "its identification number is not on RMI's smelter list",
    "smelter-name-unmatched": "not found on RMI's smelter list: choose it in the Smelter Look-up or give its CID",
    "smelter-id-mismatch": "column A and column F give different identification numbers",
    "rmap-conformance-lapsed": "its RMAP re-audit is overdue",
    "duplicate-smelter": "listed twice with the same data",
}
#: How a risk is summarised for the whole file: (heading with {n}, names listed?).
RISK_LINES: dict[str, str] = {
    "smelter-not-conformant": "{n} smelter(s) not RMAP conformant",
    "smelter-in-covered-country": "{n} smelter(s) located in the DRC or an adjoining country",
    "mine-in-covered-country": "{n} smelter(s) with mine countries in the DRC or adjoining countries",
    "mine-in-cahra": "{n} smelter(s) with mine countries in conflict-affected or high-risk areas",
}
MINE_LIST_LINES: dict[str, str] = {
    "mine-in-covered-country": "{n} mine(s) of your Mine List in the DRC or adjoining countries",
    "mine-in-cahra": "{n} mine(s) of your Mine List in conflict-affected or high-risk areas",
}
_ROW_PREFIX = re.compile(
    r"^(?:(?:Your )?Smelter List )?[Rr]ows? \d+(?:(?:, | and )\d+)*(?: \([^)]{0,80}\))?:?\s*"
)
_INTERNAL = re.compile(r"\s*\((?:score|similarity) \d+(?:\.\d+)?%?\)|\s*\[[a-z0-9-]{3,40}\]")
_LIST_ID = re.compile(
    r"\b(list) [A-Za-z0-9._-]{1,80}:[A-Za-z0-9._:-]{1,80}"
)  # "list eu-cahra:2020-12"


@dataclass(frozen=True)
class Item:
    """One line of a reply: a Declaration answer, or a smelter with all its issues."""

    severity: str
    sheet: str
    cell: str  # the first cell ("D15", "E12")
    subject: str  # "Contact e-mail", "CID001234 Example Smelter (Tin)", "Row 20"
    text: str  # what is wrong, plain words; several issues joined by "; "
    cells: tuple[str, ...] = ()  # every "Sheet!Cell" involved
    codes: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()

    @property
    def where(self) -> str:
        if self.sheet == SMELTER_SHEET and self.rows:
            shown = ", ".join(map(str, self.rows[:4])) + (" …" if len(self.rows) > 4 else "")
            return f"{SMELTER_SHEET} row{'s' if len(self.rows) > 1 else ''} {shown}"
        if self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or "file"


@dataclass(frozen=True)
class SmelterRisk:
    """A smelter the compliance team should look at, for its own row's reasons only."""

    cid: str
    name: str
    metal: str
    reasons: tuple[str, ...]


def plain(message: str) -> str:
    """A finding message without internal identifiers (list ids, match scores, codes)."""
    return _LIST_ID.sub(r"\1", _INTERNAL.sub("", message)).rstrip()


def _rows(decl: Declaration | None) -> dict[int, SmelterRow]:
    """Smelter List row number -> the row."""
    return {r.row: r for r in decl.smelters} if decl is not None else {}


def _issue(f: Finding, name: str, cid: str) -> str:
    phrase = PHRASES.get(f.code)
    if phrase is not None:
        return phrase
    text = _ROW_PREFIX.sub("", plain(f.message))
    for lead in (name, cid):
        if lead and text.startswith(lead):
            text = text[len(lead) :].lstrip(" :,-")
    if text[:1].isupper() and text[1:2].islower():
        text = text[:1].lower() + text[1:]
    return text.rstrip(".")


def short_country(code: str) -> str:
    """A country in a list of several: "DRC", "Rwanda", "United Republic of Tanzania"."""
    return "DRC" if code == "CD" else display_country(code)


def _countries(f: Finding, row: SmelterRow | None) -> list[str]:
    """The mine countries a mine-country finding is about, read from its own row: covered
    countries (and RMI's "CC") for the one, the other countries its message names (those on
    the CAHRA list, and RMI's "HR") for the other."""
    if row is None or f.code not in ("mine-in-covered-country", "mine-in-cahra"):
        return []
    origin = read_mine_countries(row.mine_countries)
    if f.code == "mine-in-covered-country":
        named = [short_country(c) for c in origin.countries if c in COVERED_COUNTRIES]
        return named + (["covered countries (CC)"] if origin.covered_code else [])
    # Which of the row's other countries are on the CAHRA list, the check says in its own
    # words: "(Colombia and Myanmar on the CAHRA list …)" (never the smelter's name).
    listed = _ON_LIST.search(f.message)
    on_list = listed.group(1) if listed else ""
    named = [
        short_country(c)
        for c in origin.countries
        if c not in COVERED_COUNTRIES and display_country(c) in on_list
    ]
    return named + (["high-risk areas (HR)"] if origin.high_risk_code else [])


_ON_LIST = re.compile(r"\(([^()]{1,2000}) on the CAHRA list")


@dataclass
class _Smelter:
    """A smelter's findings of one severity, gathered before they become one item."""

    cid: str
    name: str
    metal: str
    cell: str
    rows: list[int] = field(default_factory=list)
    cells: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    issues: dict[str, list[str]] = field(default_factory=dict)  # issue -> countries

    def add(self, f: Finding, row: int, cells: Iterable[str], source: SmelterRow | None) -> None:
        self.rows.append(row)
        self.cells.extend(cells)
        self.codes.append(f.code)
        countries = self.issues.setdefault(_issue(f, self.name, self.cid), [])
        for country in _countries(f, source):
            if country not in countries:
                countries.append(country)

    def reasons(self) -> tuple[str, ...]:
        return tuple(f"{i} ({', '.join(c)})" if c else i for i, c in self.issues.items())


def _smelter_of(f: Finding, rows: dict[int, SmelterRow]) -> tuple[int, SmelterRow | None, _Smelter]:
    """The row a Smelter List finding is on, that row, and a fresh gathering for its smelter."""
    row = split_cell(f.cell)[0]
    source = rows.get(row)
    name = (
        ""
        if source is None
        else (source.standard_name or source.name)
        if source.sentinel
        else source.display_name
    )
    cid = f.smelter_id or (source.smelter_id if source else "")
    metal = (source.metal if source else "") or f.mineral
    return row, source, _Smelter(cid, name, metal, f.cell)


def group_items(findings: Iterable[Finding], decl: Declaration | None) -> list[Item]:
    """Findings (not infos) as items, in severity order; a smelter's findings of one
    severity become one item, keyed by its CID (or its row when it has none)."""
    by_row = _rows(decl)
    items: list[Item] = []
    smelters: dict[tuple[str, str], _Smelter] = {}
    for f in sorted(findings, key=Finding.sort_key):
        if f.severity == "info":
            continue
        own = (f"{f.sheet}!{f.cell}",) if f.cell else ()
        cells = (*own, *(getattr(f, "related", ()) or ()))
        if f.sheet != SMELTER_SHEET or not f.cell:
            items.append(
                Item(f.severity, f.sheet, f.cell, f.mineral, plain(f.message), cells, (f.code,))
            )
            continue
        row, source, fresh = _smelter_of(f, by_row)
        entry = smelters.setdefault((f.severity, fresh.cid or f"row {row}"), fresh)
        entry.add(f, row, cells, source)
    for (severity, _key), e in smelters.items():
        rows = tuple(dict.fromkeys(e.rows))
        items.append(
            Item(
                severity,
                SMELTER_SHEET,
                e.cell,
                smelter_label(e.cid, e.name, e.metal, rows[0]),
                "; ".join(e.reasons()),
                tuple(dict.fromkeys(e.cells)),
                tuple(dict.fromkeys(e.codes)),
                rows,
            )
        )
    items.sort(key=lambda i: (SEVERITY_RANK[i.severity], i.sheet != "Declaration", _order(i)))
    return items


def _order(item: Item) -> tuple[int, str]:
    return split_cell(item.cell) if item.cell else (0, "")


def smelter_label(cid: str, name: str, metal: str, row: int) -> str:
    who = " ".join(p for p in (cid, name) if p) or f"Row {row}"
    return f"{who} ({metal})" if metal else who


def fix_first(items: Sequence[Item], limit: int = 5) -> list[Item]:
    """The errors to fix first: Declaration answers before smelter rows, in form order."""
    return [i for i in items if i.severity == "error"][:limit]


def high_risk_smelters(findings: Iterable[Finding], decl: Declaration | None) -> list[SmelterRisk]:
    """Smelters with a risk finding *on their own row* of the Smelter List, with the reasons.

    Declaration answers, the Mine List and other rows never make a smelter high-risk: an
    Austrian refinery is not "high-risk" because another row names Rwanda.
    """
    by_row = _rows(decl)
    out: dict[str, _Smelter] = {}
    for f in sorted(findings, key=Finding.sort_key):
        if f.severity != "risk" or f.sheet != SMELTER_SHEET or not f.cell:
            continue
        row, source, fresh = _smelter_of(f, by_row)
        out.setdefault(fresh.cid or f"row {row}", fresh).add(f, row, (), source)
    return [
        SmelterRisk(e.cid, e.name or e.cid or f"row {e.rows[0]}", e.metal, e.reasons())
        for e in out.values()
    ]


def risk_summary(findings: Sequence[Finding], decl: Declaration | None) -> list[str]:
    """The supply-chain risks of one file in a few lines: counts, the countries, then names."""
    by_row = _rows(decl)
    by_code: dict[str, dict[str, None]] = {}
    countries: dict[str, dict[str, None]] = {}
    mines: dict[str, list[str]] = {}
    others: list[str] = []
    for f in sorted(findings, key=Finding.sort_key):
        if f.severity != "risk":
            continue
        if f.code in MINE_LIST_LINES and f.sheet == "Mine List":
            mines.setdefault(f.code, []).append(f.cell)
            continue
        if f.code in RISK_LINES and f.sheet == SMELTER_SHEET and f.cell:
            row, source, one = _smelter_of(f, by_row)
            label = (
                f"{one.name} ({one.cid})"
                if one.name and one.cid
                else (one.name or one.cid or f"row {row}")
            )
            by_code.setdefault(f.code, {})[label] = None
            for country in _countries(f, source):
                countries.setdefault(f.code, {})[country] = None
        else:
            text = plain(f.message)
            if text not in others:
                others.append(text)
    lines = []
    for code, heading in RISK_LINES.items():
        who = list(by_code.get(code, {}))
        if not who:
            continue
        where = list(countries.get(code, {}))
        named = f" ({', '.join(where)})" if where else ""
        more = f" and {len(who) - MAX_NAMES} more" if len(who) > MAX_NAMES else ""
        lines.append(f"{heading.format(n=len(who))}{named}: {', '.join(who[:MAX_NAMES])}{more}")
    for code, heading in MINE_LIST_LINES.items():
        cells = mines.get(code, [])
        if cells:
            shown = ", ".join(cells[:MAX_NAMES]) + (
                f" and {len(cells) - MAX_NAMES} more" if len(cells) > MAX_NAMES else ""
            )
            lines.append(f"{heading.format(n=len(cells))} (Mine List {shown})")
    return lines + others


def one_line(text: object, limit: int) -> str:
    """Control characters (CR, LF, tab, NUL …) and runs of spaces become one space; at most
    ``limit`` characters, "…" when cut."""
    s = " ".join(_CONTROL.sub(" ", str(text)[: limit * 4 + 16]).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


@dataclass(frozen=True)
class Screened:
    """One screened file of a submission, as the alert needs it."""

    filename: str
    sha256: str
    template: str  # "CMRT 6.5", or "unreadable"
    risk_level: str
    summary: dict[str, int]
    findings: Sequence[Finding]
    declaration: Declaration | None


def screened(filename: str, sha256: str, result: ScreeningResult) -> Screened:
    """One screened file as the submission alert needs it."""
    decl = result.declaration
    return Screened(
        filename=filename,
        sha256=sha256,
        template=f"{decl.meta.type} {decl.meta.version}" if decl else "unreadable",
        risk_level=result.risk_level,
        summary=result.summary,
        findings=result.findings,
        declaration=decl,
    )


def submission_alerts(
    supplier: str, files: Sequence[Screened], via: str = ""
) -> tuple[Submission, SubmissionDetails | None]:
    """The compliance channel's post for one submission, and the details for its thread
    (None when there is nothing to detail: no high-risk smelter, nothing to correct).

    The post is one line per file (verdict and counts); the thread names each high-risk
    smelter with the reasons on its own row, and the first points to correct. Every value
    is one line of bounded length; the notifiers escape it for where it goes. The caller
    sets the details' ``thread_of`` (the key it queues the post under).
    """
    levels = ["low", "medium", "high"]
    risky = [high_risk_smelters(f.findings, f.declaration) for f in files]
    post = Submission(
        supplier=one_line(supplier, MAX_ALERT_NAME),
        files=tuple(
            SubmissionFile(
                filename=one_line(f.filename, MAX_ALERT_NAME),
                sha256=f.sha256,
                template=one_line(f.template, 40),
                risk_level=f.risk_level,
                summary=Counts.of(f.summary),
                high_risk_count=len(smelters),
            )
            for f, smelters in zip(files, risky, strict=True)
        ),
        risk_level=max((f.risk_level for f in files), key=levels.index, default="low"),
        via=via,
    )
    detailed = tuple(
        DetailsFile(
            filename=one_line(f.filename, MAX_ALERT_NAME),
            high_risk=tuple(
                HighRisk(
                    cid=s.cid,
                    name=one_line(s.name, MAX_ALERT_NAME),
                    metal=one_line(s.metal, 40),
                    reasons=tuple(one_line(r, 300) for r in s.reasons[:6]),
                )
                for s in smelters[:MAX_ALERT_SMELTERS]
            ),
            to_correct=tuple(
                one_line(f"{i.where}: {i.text}", 400)
                for i in fix_first(group_items(f.findings, f.declaration), MAX_ALERT_ITEMS)
            ),
        )
        for f, smelters in zip(files, risky, strict=True)
    )
    if not any(d.high_risk or d.to_correct for d in detailed):
        return post, None
    return post, SubmissionDetails(supplier=post.supplier, files=detailed)
