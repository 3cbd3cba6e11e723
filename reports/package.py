"""The supplier's zip package, opened within limits and written back part for part.

Only the parts that are changed are replaced; every other part is written back with the
same name, the same decompressed bytes and the same compression method, in the original
order, and new parts are appended. The size and ratio limits of :mod:`plugins.bounds`
are checked on the zip directory before anything is inflated; the declared sizes bound the
inflation itself (``zipfile`` stops at the declared size and then fails the CRC check).

Relationship parts (``.rels``) and ``[Content_Types].xml`` are read and extended with the
byte-level helpers of :mod:`reports.xmltext`, never re-serialised.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from urllib.parse import unquote

from plugins.bounds import check_zip
from plugins.limits import FileProblem, Limits
from plugins.parts import rels_part
from plugins.sniff import sniff

from .xmltext import START_TAG, XmlShapeError, attrs_of, esc_attr, root, unescape

REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_WORKSHEET = REL_NS + "/worksheet"
REL_STYLES = REL_NS + "/styles"
REL_COMMENTS = REL_NS + "/comments"
REL_VML = REL_NS + "/vmlDrawing"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CONTENT_TYPES = "[Content_Types].xml"
MAX_PARTS = 10_000  # RMI templates have about 90

_RELS_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b"</Relationships>"
)
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
)


class PackageError(Exception):
    """The file is not a package we can patch (damaged, encrypted, not a workbook...)."""


@dataclass(frozen=True)
class Rel:
    id: str
    type: str
    target: str
    external: bool


class Package:
    """An opened ``.xlsx``/``.xlsm``: parts read on demand, changes kept aside."""

    def __init__(self, data: bytes, limits: Limits) -> None:
        if not data:
            raise PackageError("the file is empty")
        if len(data) > limits.max_file_bytes:
            raise PackageError(f"the file is larger than {limits.max_file_bytes} bytes")
        kind = sniff(data).kind
        if kind == "ole":
            raise PackageError("an encrypted workbook or a legacy .xls file")
        if kind == "other":
            raise PackageError("not a zip package")
        try:
            self._zip = check_zip(data, limits)
        except FileProblem as problem:
            raise PackageError(f"{problem.message} {problem.detail}".strip()) from problem
        self._infos = self._zip.infolist()
        if len(self._infos) > MAX_PARTS:
            raise PackageError(f"{len(self._infos)} parts, far more than any workbook has")
        self._by_key: dict[str, zipfile.ZipInfo] = {}
        for info in self._infos:
            key = info.filename.casefold()
            if key in self._by_key:
                raise PackageError(f"the part {info.filename!r} appears twice")
            if info.flag_bits & 0x1:
                raise PackageError(f"the part {info.filename!r} is encrypted")
            self._by_key[key] = info
        if "xl/workbook.xml" not in self._by_key:
            raise PackageError("no xl/workbook.xml (a binary .xlsb or another kind of package)")
        self._cache: dict[str, bytes] = {}
        self._changed: dict[str, bytes] = {}
        self._added: dict[str, tuple[str, bytes]] = {}  # casefolded name -> (name, bytes)

    # -- reading -------------------------------------------------------------------
    def name_of(self, part: str) -> str | None:
        """The part's name as stored (part names are case-insensitive), or None."""
        key = part.casefold()
        if key in self._added:
            return self._added[key][0]
        info = self._by_key.get(key)
        return info.filename if info else None

    def has(self, part: str) -> bool:
        return self.name_of(part) is not None

    def get(self, part: str) -> bytes:
        """The part's current bytes (changed, added or original)."""
        key = part.casefold()
        if key in self._added:
            return self._added[key][1]
        name = self.name_of(part)
        if name is None:
            raise KeyError(part)
        if name in self._changed:
            return self._changed[name]
        if name not in self._cache:
            self._cache[name] = self._read(name)
        return self._cache[name]

    def head(self, part: str, size: int) -> bytes:
        """The first ``size`` decompressed bytes of an original part (no CRC check)."""
        name = self.name_of(part)
        if name is None or name in self._changed or part.casefold() in self._added:
            return self.get(part)[:size]
        try:
            with self._zip.open(name) as f:
                return f.read(size)
        except _READ_ERRORS as exc:
            raise PackageError(f"the part {name!r} cannot be read: {exc}") from exc

    def _read(self, name: str) -> bytes:
        try:
            return self._zip.read(name)
        except _READ_ERRORS as exc:
            raise PackageError(f"the part {name!r} cannot be read: {exc}") from exc

    def names(self) -> list[str]:
        return [i.filename for i in self._infos] + [name for name, _ in self._added.values()]

    # -- writing -------------------------------------------------------------------
    def put(self, part: str, data: bytes) -> None:
        name = self.name_of(part)
        if name is not None and part.casefold() not in self._added:
            self._changed[name] = data
        else:
            self._added[part.casefold()] = (name or part, data)

    def changed(self) -> set[str]:
        """Names of the original parts that were replaced."""
        return set(self._changed)

    def added(self) -> list[str]:
        return [name for name, _ in self._added.values()]

    def free_name(self, pattern: str, taken: set[str]) -> str:
        """First ``pattern.format(n)`` (n = 1, 2...) that names no part, no part's
        relationships, and nothing in ``taken`` (casefolded names, e.g. content-type entries)."""
        for n in range(1, 100_000):
            name = pattern.format(n)
            if not (self.has(name) or self.has(rels_part(name)) or name.casefold() in taken):
                return name
        raise PackageError("no free part name")

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in self._infos:
                name = info.filename
                data = self._changed.get(name)
                if data is None:
                    data = self._cache.pop(name, None)
                if data is None:
                    data = self._read(name)
                dst.writestr(_copy_info(info), data)
            date = self._infos[0].date_time if self._infos else (1980, 1, 1, 0, 0, 0)
            for name, data in self._added.values():
                info = zipfile.ZipInfo(name, date)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o600 << 16
                dst.writestr(info, data)
        return out.getvalue()


def _copy_info(src: zipfile.ZipInfo) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(src.filename, src.date_time)
    info.compress_type = src.compress_type
    info.external_attr = src.external_attr
    info.create_system = src.create_system
    info.comment = src.comment
    return info


# -- relationships --------------------------------------------------------------------


_REL_TAG = re.compile(rb"<(?:[\w.-]+:)?Relationship[\s/>]")


def parse_rels(xml: bytes | None) -> list[Rel]:
    if not xml:
        return []
    out = []
    for m in _REL_TAG.finditer(xml):
        tag = START_TAG.match(xml, m.start())
        if tag is None:
            continue
        attrs = attrs_of(tag.group(2))
        if b"Id" in attrs and b"Target" in attrs:
            out.append(
                Rel(
                    unescape(attrs[b"Id"]),
                    unescape(attrs.get(b"Type", b"")),
                    unescape(attrs[b"Target"]),
                    unescape(attrs.get(b"TargetMode", b"")).casefold() == "external",
                )
            )
    return out


def resolve(source: str, target: str) -> str | None:
    """Part name a relationship of ``source`` points at; None when it leaves the package."""
    target = unquote(target.split("#", 1)[0])
    if not target or "://" in target:
        return None
    if target.startswith("/"):
        path = posixpath.normpath(target.lstrip("/"))
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
    if path.startswith("../") or path in ("..", ".") or path.startswith("/"):
        return None
    return path


def relative(source: str, part: str) -> str:
    return posixpath.relpath(part, posixpath.dirname(source) or ".")


def new_rel_id(rels: list[Rel]) -> str:
    ids = {r.id for r in rels}
    numbers = [int(r.id[3:]) for r in rels if re.fullmatch(r"rId[0-9]{1,9}", r.id)]
    n = max(numbers, default=0) + 1
    while f"rId{n}" in ids:
        n += 1
    return f"rId{n}"


def add_rel(xml: bytes | None, rel: Rel) -> bytes:
    """Relationship part ``xml`` (or a new one) with ``rel`` appended."""
    xml = xml or _RELS_XML
    try:
        top = root(xml)
    except XmlShapeError as exc:
        raise PackageError(f"damaged relationships part: {exc}") from exc
    entry = (
        f'<{top.prefix.decode()}Relationship Id="{esc_attr(rel.id)}" Type="{esc_attr(rel.type)}" '
        f'Target="{esc_attr(rel.target)}"/>'
    ).encode()
    if top.empty:
        return xml[: top.end - 2].rstrip() + b">" + entry + b"</" + top.name + b">" + xml[top.end :]
    close = xml.rfind(b"</" + top.name + b">")
    if close < 0:
        raise PackageError("damaged relationships part")
    return xml[:close] + entry + xml[close:]


# -- content types ----------------------------------------------------------------------


def content_type_entries(xml: bytes) -> tuple[set[str], set[str]]:
    """(casefolded override part names without the leading "/", casefolded default extensions)."""
    overrides: set[str] = set()
    defaults: set[str] = set()
    for m in re.finditer(rb"<(?:[\w.-]+:)?(Override|Default)[\s/>]", xml):
        tag = START_TAG.match(xml, m.start())
        if tag is None:
            continue
        attrs = attrs_of(tag.group(2))
        if m.group(1) == b"Override" and b"PartName" in attrs:
            overrides.add(unescape(attrs[b"PartName"]).lstrip("/").casefold())
        elif m.group(1) == b"Default" and b"Extension" in attrs:
            defaults.add(unescape(attrs[b"Extension"]).casefold())
    return overrides, defaults


def add_overrides(xml: bytes, entries: list[tuple[str, str]]) -> bytes:
    """``[Content_Types].xml`` with an Override per (part, content type) not yet listed."""
    overrides, _ = content_type_entries(xml)
    try:
        top = root(xml)
    except XmlShapeError as exc:
        raise PackageError(f"damaged [Content_Types].xml: {exc}") from exc
    new = b"".join(
        f'<{top.prefix.decode()}Override PartName="/{esc_attr(part)}" '
        f'ContentType="{esc_attr(ctype)}"/>'.encode()
        for part, ctype in entries
        if part.casefold() not in overrides
    )
    if not new:
        return xml
    close = xml.rfind(b"</" + top.name + b">")
    if close < 0:
        raise PackageError("damaged [Content_Types].xml")
    return xml[:close] + new + xml[close:]
