"""Where things are in a workbook package, read without an XML parser.

These small parts (``xl/workbook.xml``, relationship parts) come from a stranger: they are
read with bounded regular expressions, so no entity is ever expanded.
"""

from __future__ import annotations

import re
import zipfile

_SHEET_TAG_RE = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTR_RE = re.compile(rb'([\w:]+)="([^"]*)"')
_XML_ENTITIES = {b"&amp;": b"&", b"&lt;": b"<", b"&gt;": b">", b"&quot;": b'"', b"&apos;": b"'"}


def unescape(raw: bytes) -> str:
    """The five XML entities of ``raw``, as text (nothing else is expanded)."""
    for k, v in _XML_ENTITIES.items():
        raw = raw.replace(k, v)
    return raw.decode("utf-8", "replace")


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip part, from ``xl/workbook.xml`` and its relationships (regex only:
    these small parts are read without an XML parser that could expand entities)."""
    try:
        wb = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except (KeyError, OSError, zipfile.BadZipFile, EOFError):
        return {}
    targets: dict[bytes, str] = {}
    for tag in re.finditer(rb"<(?:\w+:)?Relationship\b[^>]*>", rels):
        attrs = dict(_ATTR_RE.findall(tag.group(0)))
        if b"Id" in attrs and b"Target" in attrs:
            target = unescape(attrs[b"Target"])
            targets[attrs[b"Id"]] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    out: dict[str, str] = {}
    for tag in _SHEET_TAG_RE.finditer(wb):
        attrs = dict(_ATTR_RE.findall(tag.group(0)))
        rid = next((v for k, v in attrs.items() if k.endswith(b":id")), None)
        if b"name" in attrs and rid in targets:
            out[unescape(attrs[b"name"])] = targets[rid]
    return out


def sheet_tag_names(zf: zipfile.ZipFile) -> list[str] | None:
    """Every ``<sheet name=...>`` of ``xl/workbook.xml`` in order, duplicates kept (None when
    the part cannot be read). Compared with the engine's own sheet list, it tells whether this
    module and the engine see the same sheets (:meth:`plugins.workbook.Workbook.part_xml`)."""
    try:
        wb = zf.read("xl/workbook.xml")
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError):
        return None
    names = []
    for tag in _SHEET_TAG_RE.finditer(wb):
        attrs = dict(_ATTR_RE.findall(tag.group(0)))
        names.append(unescape(attrs.get(b"name", b"")))
    return names


def rels_part(part: str) -> str:
    """``xl/worksheets/sheet4.xml`` -> ``xl/worksheets/_rels/sheet4.xml.rels``."""
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"
