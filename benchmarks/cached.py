"""Cached formula values, written into a workbook openpyxl saved, as Excel would have.

openpyxl writes every formula cell as ``<f>…</f><v />``: the value Excel computed and
stored beside the formula is gone. A supplier's file, saved by Excel, carries it, and
Assay's reader takes its fast path on it (column F of the Smelter List holds the CID, so the
workbook's Smelter Look-up is never parsed). A benchmark on openpyxl's output measures the
slow "no cached values" path instead, which only ERP exports and scripts produce.

:func:`inject_cached_values` puts the values back, without Excel:

- in the Smelter List's filled rows, the template's formulas are evaluated the way Excel
  would: B and C from the CID typed in A (``INDEX``/``MATCH`` on the Look-up's column E),
  V the first Look-up row whose column J (metal & look-up name) matches B & C, every
  ``OFFSET('Smelter Look-up'!$X$4, V-4, 0)`` the Look-up's column X on that row, S the
  country's code from sheet C, ``B5&C5`` the concatenation; what is left (the ``1``/``0``
  flags, the SorP code) keeps the blank template's value;
- every other formula cell (empty Smelter List rows, the Look-up's own J and K columns, the
  Declaration, the Checker) gets the value Excel stored in the blank template at that
  address: for an empty row, ``t="str"`` and an empty ``<v></v>``, as Excel writes it.

The evaluation covers the formula shapes of RMI's templates (CMRT, EMRT, CRT, AMRT 1.3);
:func:`check_cached` reads the file back with python-calamine and returns what is missing.
"""

from __future__ import annotations

import functools
import html
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import python_calamine

_CELL_RE = re.compile(rb'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_F_RE = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_V_RE = re.compile(rb"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.S)
_T_RE = re.compile(rb'\st="[^"]*"')
_LOOKUP_REF = re.compile(r"(?:OFFSET|INDEX)\('Smelter Look-up'!\$([A-Z]+)")
_CONCAT = re.compile(r"^\$?([A-Z]+)\$?\d+&\$?([A-Z]+)\$?\d+$")


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    from plugins.parts import sheet_parts

    return sheet_parts(zf)


def _blank_values(xml: bytes) -> dict[bytes, tuple[bytes, bytes]]:
    """Address -> (``t`` attribute, ``<v>`` text) of every formula cell Excel stored."""
    out: dict[bytes, tuple[bytes, bytes]] = {}
    for m in _CELL_RE.finditer(xml):
        inner = m.group(4) or b""
        if b"<f" not in inner:
            continue
        t = re.search(rb'\st="([^"]*)"', m.group(3))
        v = _V_RE.search(inner)
        out[m.group(1) + m.group(2)] = (t.group(1) if t else b"", (v.group(1) or b"") if v else b"")
    return out


class _Lookup:
    """The blank template's Smelter Look-up and country list, for evaluating formulas."""

    def __init__(self, blank: Path) -> None:
        book = python_calamine.CalamineWorkbook.from_path(str(blank))
        names = book.sheet_names
        self.rows: list[list[object]] = (
            book.get_sheet_by_name("Smelter Look-up").to_python(skip_empty_area=False)
            if "Smelter Look-up" in names
            else []
        )
        self.by_cid: dict[str, int] = {}
        self.by_key: dict[str, int] = {}
        for i, r in enumerate(self.rows):
            if len(r) > 4 and isinstance(r[4], str) and r[4]:
                self.by_cid.setdefault(r[4], i)
            if len(r) > 1 and r[0] and r[1]:  # column J's formula: =A5&B5
                self.by_key.setdefault(f"{r[0]}{r[1]}", i)
        self.codes: dict[str, str] = {}
        if "C" in names:
            for r in book.get_sheet_by_name("C").to_python(skip_empty_area=False)[1:]:
                if len(r) > 1 and r[1]:
                    self.codes.setdefault(str(r[1]), str(r[0]))

    def cell(self, i: int, col: str) -> str:
        row = self.rows[i]
        c = _col(col)
        v = row[c] if c < len(row) else ""
        return "" if v is None else str(v)


def _evaluate(
    formulas: dict[str, str], typed: dict[str, str], lookup: _Lookup
) -> dict[str, str | int] | None:
    """Values of one filled Smelter List row's formula cells (column -> value), or None when
    the row resolves to nothing in the Look-up (its cells then keep the blank's values)."""
    b, c = typed.get("B", ""), typed.get("C", "")
    a = typed.get("A", "")
    if a and (not b or not c) and a in lookup.by_cid:
        i = lookup.by_cid[a]
        b, c = b or lookup.cell(i, "A"), c or lookup.cell(i, "C")
    v = lookup.by_key.get(b + c)
    if v is None:
        return None
    known: dict[str, str | int] = {"B": b, "C": c, "V": v + 1}
    out: dict[str, str | int] = {}
    for col, f in formulas.items():
        if col in ("B", "C"):
            out[col] = known[col]
        elif (m := _LOOKUP_REF.search(f)) is not None:
            out[col] = lookup.cell(v, m.group(1))
        elif "'Smelter Look-up'!" in f and "MATCH(" in f:
            out[col] = v + 1  # the row number MATCH returns on a whole column
    for col, f in formulas.items():  # second pass: formulas of the values above
        if col in out:
            continue
        if (m := _CONCAT.match(f)) is not None:
            out[col] = f"{out.get(m.group(1), typed.get(m.group(1), ''))}" + str(
                out.get(m.group(2), typed.get(m.group(2), ""))
            )
        elif "INDIRECT(\"'C'!" in f:
            country = next(
                (str(out[k]) for k, g in formulas.items() if "$D$4" in g and k in out), ""
            )
            out[col] = lookup.codes.get(country, "Unknown")
    return out


def _cell_xml(addr: bytes, attrs: bytes, f: bytes, t: bytes, v: bytes) -> bytes:
    attrs = _T_RE.sub(b"", attrs)
    t_attr = b' t="' + t + b'"' if t else b""
    return b'<c r="' + addr + b'"' + attrs + t_attr + b">" + f + b"<v>" + v + b"</v></c>"


def shared_masters(xml: bytes) -> dict[bytes, str]:
    """Shared formulas' master text by ``si`` (a dependent cell has only ``si``)."""
    return {
        m.group(1): html.unescape(m.group(2).decode())
        for m in re.finditer(rb'<f t="shared"[^>]*? si="(\d+)"[^>]*>(.*?)</f>', xml, re.S)
    }


def _rewrite(
    xml: bytes,
    blank: dict[bytes, tuple[bytes, bytes]],
    lookup: _Lookup | None,
    shared: dict[bytes, str] | None = None,
    keep: bool = False,
) -> bytes:
    """``xml`` with its formula cells' values set: evaluated in filled rows, else the blank's
    (or, with ``keep``, left as they are)."""
    rows: dict[bytes, dict[str, tuple[re.Match[bytes], str]]] = {}
    typed: dict[bytes, dict[str, str]] = {}
    cells = list(_CELL_RE.finditer(xml))
    shared = {} if shared is None else shared  # si -> the master's text (rules read columns)
    for m in cells:
        inner = m.group(4) or b""
        if b"<f" in inner:
            fm = _F_RE.search(inner)
            text = html.unescape((fm.group(1) or b"").decode()) if fm else ""
            si = re.search(rb'\ssi="(\d+)"', fm.group(0)) if fm else None
            if si is not None:
                text = shared.setdefault(si.group(1), text) if text else shared.get(si.group(1), "")
            rows.setdefault(m.group(2), {})[m.group(1).decode()] = (m, text)
        elif b"<is><t" in inner or b"<v>" in inner:
            t = re.search(rb"<t[^>]*>(.*?)</t>", inner, re.S) or _V_RE.search(inner)
            value = html.unescape((t.group(1) or b"").decode()).strip() if t else ""
            if value:
                typed.setdefault(m.group(2), {})[m.group(1).decode()] = value
    replace: dict[int, bytes] = {}
    for row, formulas in rows.items():
        values = None
        if lookup is not None and row in typed and int(row) >= 5:  # under the header
            values = _evaluate({k: f for k, (_m, f) in formulas.items()}, typed[row], lookup)
        for col, (m, _f) in formulas.items():
            addr = m.group(1) + m.group(2)
            f_xml = _F_RE.search(m.group(4) or b"")
            assert f_xml is not None
            if keep and (values is None or col not in values):
                continue
            if values is not None and col in values:
                value = values[col]
                if isinstance(value, int):
                    t, v = b"", str(value).encode()
                else:
                    t, v = b"str", html.escape(value, quote=False).encode()
            else:
                t, v = blank.get(addr, (b"", b""))
                if not t and not v:  # none stored (the blank was saved by openpyxl too)
                    t = b"str"
            replace[m.start()] = _cell_xml(addr, m.group(3), f_xml.group(0), t, v)
    if not replace:
        return xml
    out, pos = [], 0
    for m in cells:
        if m.start() in replace:
            out += [xml[pos : m.start()], replace[m.start()]]
            pos = m.end()
    out.append(xml[pos:])
    return b"".join(out)


@functools.lru_cache(maxsize=8)
def _blank(blank: Path) -> tuple[_Lookup, dict[str, dict[bytes, tuple[bytes, bytes]]]]:
    with zipfile.ZipFile(blank) as zb:
        values = {name: _blank_values(zb.read(part)) for name, part in _sheet_parts(zb).items()}
    return _Lookup(blank), values


def inject_cached_values(saved: Path, blank: Path) -> Path:
    """Rewrite ``saved`` (openpyxl's copy of ``blank``, filled) with the cached values Excel
    would have stored; returns ``saved``."""
    lookup, blank_values = _blank(blank)
    with zipfile.ZipFile(saved) as zs:
        parts = {part: name for name, part in _sheet_parts(zs).items()}
        fd, tmp_name = tempfile.mkstemp(suffix=".xlsx", dir=saved.parent)
        with open(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zo:
            for info in zs.infolist():
                data = zs.read(info)
                name = parts.get(info.filename)
                if name is not None:
                    data = _rewrite(
                        data,
                        blank_values.get(name, {}),
                        lookup if name == "Smelter List" and lookup.rows else None,
                    )
                zo.writestr(info, data)
    shutil.move(tmp_name, saved)
    return saved


def check_cached(path: Path, cids: list[str]) -> list[str]:
    """CIDs of ``cids`` that python-calamine does not read back from the Smelter List's
    column F (cached values), in order; empty when every one is there."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_name("Smelter List").to_python(skip_empty_area=False)
    found = {str(r[5]) for r in rows[4:] if len(r) > 5 and r[5]}
    return [c for c in cids if c not in found]
