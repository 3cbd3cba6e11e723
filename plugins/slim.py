"""The package the spreadsheet engine reads: the list sheets without their unused tails.

A template's Smelter List is 5 MB of XML, 2,504 rows of look-up formulas, for the few hundred
rows a supplier fills; the engine would parse every byte of it. :func:`slim_package` cuts each
list sheet after its last row with input (:func:`plugins.bounds.trim_tail`) and leaves out the
parts the engine never reads for values.

Making it is most of a read's cost, and it needs nothing but the bytes and the limits, so a
caller that knows the file early (``assay screen`` with one file) has it made by a sandboxed
child while it loads the plugins (:func:`start_prepare`), and hands it to the read
(:meth:`Prepared.take`). The prepared package is as untrusted as the file: the read checks
its list sheets' bounds again, and the engine only ever opens it inside the sandbox.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass

from . import isolation
from .bounds import Truncation, check_zip, scan_sheet_xml, trim_tail
from .limits import TOO_COMPLEX, TOO_COMPLEX_MESSAGE, FileProblem, Limits
from .parts import sheet_parts, sheet_tag_names
from .sniff import sniff

#: The list sheets whose unused tail the engine is not given (:func:`plugins.bounds.trim_tail`),
#: and how many columns from A are read (:mod:`plugins.list_sheets`: the Smelter List's A-S): a
#: cell after the last row with a value there adds nothing to a declaration, whichever row
#: its reference names.
TRIMMED_SHEETS = {"Smelter List": 19, "Product List": 6, "Mine List": 6}

#: Parts the engine never reads for values (the calculation chain, pictures, printer set-up),
#: and the size above which another worksheet is left to the whole package, read if asked.
_UNREAD_PART_RE = re.compile(r"xl/calcChain\.xml|xl/media/.*|xl/printerSettings/.*")
_SLIM_SHEET_BYTES = 256 * 1024


@dataclass(frozen=True)
class Slim:
    """The package the engine reads: the list sheets without their unused tails.

    ``scanned``: the list sheets already checked by :func:`scan_sheet_xml` (and their
    truncation, if any); ``left_out``: sheets whose parts are only in the whole package."""

    data: bytes
    sheet_names: list[str]  # as xl/workbook.xml lists them: the engine must see the same
    scanned: dict[str, Truncation | None]
    left_out: frozenset[str]

    def to_plain(self) -> isolation.WithBytes:
        """As a preparing child sends it back: JSON values, and the package's bytes."""
        meta = [
            list(self.sheet_names),
            {
                name: None if t is None else [t.sheet, t.last_row_read, t.last_row]
                for name, t in self.scanned.items()
            },
            sorted(self.left_out),
        ]
        return isolation.WithBytes(meta, self.data)

    @classmethod
    def from_plain(cls, plain: object) -> Slim:
        """The inverse of :meth:`to_plain`; a wrong shape raises ``ValueError``/``TypeError``."""
        if not isinstance(plain, isolation.WithBytes) or not isinstance(plain.value, list):
            raise TypeError("a package with its sheets")
        names, scanned, left_out = plain.value
        if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise TypeError("sheet names")
        if not (isinstance(scanned, dict) and isinstance(left_out, list)):
            raise TypeError("scanned sheets")
        cuts: dict[str, Truncation | None] = {}
        for name, t in scanned.items():
            if t is None:
                cuts[name] = None
                continue
            sheet, read_to, last = t
            if not (isinstance(sheet, str) and type(read_to) is int and type(last) is int):
                raise TypeError("truncation")
            cuts[name] = Truncation(sheet, read_to, last)
        return cls(plain.blob, names, cuts, frozenset(str(n) for n in left_out))


def slim_package(data: bytes, zf: zipfile.ZipFile, limits: Limits) -> Slim | None:
    """The workbook as the engine needs it, or ``None`` where it cannot stand in for the
    whole package (which is then read as it is).

    A template's Smelter List is 5 MB of XML, 2,504 rows of look-up formulas, for the few
    hundred rows a supplier fills; the engine parses every byte of it. Here each list sheet
    passes the bounds check and is cut after its last row with input; the package keeps every
    other part but the calculation chain, pictures, printer settings and large worksheets the
    reader may never ask for. A package whose sheet names this module might map to other parts
    than the engine does (a name twice, a part twice) is left whole, as is any sheet whose
    bounds check fails: that sheet's own read says so, and only if it is read."""
    names = sheet_tag_names(zf)
    infos = zf.infolist()
    if not names or len({i.filename for i in infos}) != len(infos):
        return None
    parts = sheet_parts(zf)
    # One part per sheet, one sheet per part: anything else is left to the whole package.
    if sorted(parts) != sorted(names) or len(set(parts.values())) != len(parts):
        return None
    scanned: dict[str, Truncation | None] = {}
    replaced: dict[str, bytes] = {}
    for name, columns in TRIMMED_SHEETS.items():
        if name not in names:
            continue
        part = parts.get(name)
        if names.count(name) != 1 or not part or not part.endswith(".xml"):
            return None
        try:
            xml = zf.read(part)
        except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error):
            return None
        try:
            xml, truncation = scan_sheet_xml(xml, name, limits.max_rows)
        except FileProblem:
            return None
        xml = trim_tail(xml, columns) or xml
        scanned[name] = truncation
        replaced[part] = xml
    if not replaced:
        return None
    sheet_of = {part: name for name, part in parts.items()}
    left_out: set[str] = set()
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
            for info in infos:
                name = info.filename
                if name in replaced:
                    continue
                if name in sheet_of:
                    if info.file_size > _SLIM_SHEET_BYTES:
                        left_out.add(sheet_of[name])
                        continue
                elif _UNREAD_PART_RE.fullmatch(name):
                    continue
                dst.writestr(name, zf.read(info))
            for part, xml in replaced.items():
                dst.writestr(part, xml)
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error):
        return None
    return Slim(out.getvalue(), names, scanned, frozenset(left_out))


def checked_slim(slim: Slim, zf: zipfile.ZipFile, limits: Limits) -> Slim | None:
    """A prepared package (made in another child) fit for the whole package ``zf``, or ``None``.

    Its sheets must be the whole package's, in order; it must have cut exactly the list sheets
    the workbook has, and those pass the bounds check again (a few milliseconds: they are
    cut); every other worksheet it holds must be the whole package's part byte for byte (the
    bounds check of those reads the whole package); which sheets it left out is read from it,
    not taken from the preparing child."""
    if sheet_tag_names(zf) != slim.sheet_names:
        return None
    if set(slim.scanned) != {name for name in TRIMMED_SHEETS if name in slim.sheet_names}:
        return None
    try:
        own = zipfile.ZipFile(io.BytesIO(slim.data))
        present = set(own.namelist())
        parts = sheet_parts(zf)
        if sheet_parts(own) != parts:
            return None
        for name, part in parts.items():
            if name in slim.scanned:
                truncation = slim.scanned[name]
                if part not in present or (truncation is not None and truncation.sheet != name):
                    return None
                if scan_sheet_xml(own.read(part), name, limits.max_rows)[1] is not None:
                    return None  # a cut sheet is within the row limit
            elif part in present and own.read(part) != zf.read(part):
                return None
    except (KeyError, OSError, zipfile.BadZipFile, EOFError, ValueError, zlib.error, FileProblem):
        return None
    left_out = frozenset(name for name, part in parts.items() if part not in present)
    return Slim(slim.data, slim.sheet_names, dict(slim.scanned), left_out)


def _prepare(data: bytes, limits: Limits) -> isolation.WithBytes | None:
    """Runs in the sandboxed child: the slim package as plain values, or ``None`` (not a
    package it can stand in for; the read then finds out what the file is)."""
    if sniff(data).kind != "xlsx":
        return None
    try:
        zf = check_zip(data, limits)
    except FileProblem:
        return None
    slim = slim_package(data, zf, limits)
    return None if slim is None else slim.to_plain()


class Prepared:
    """A slim package being made for ``data`` by a sandboxed child (:func:`start_prepare`)."""

    def __init__(
        self,
        data: bytes,
        limits: Limits,
        pending: isolation.Pending[isolation.WithBytes | None],
    ) -> None:
        self.data = data
        self.limits = limits
        self._pending = pending

    def take(self, data: bytes, limits: Limits | None = None) -> Slim | None:
        """The package made for these very bytes under these limits, once the child is done;
        ``None`` when it made none, was made for other bytes or limits, or failed otherwise
        (the read then makes its own). A limit reached raises the ``file-too-complex``
        problem: preparing is part of reading, within its limits."""
        if (data is not self.data and data != self.data) or (
            limits is not None and limits != self.limits
        ):
            self.cancel()
            return None
        try:
            plain = self._pending.result()
        except isolation.ChildFailed as failed:
            if failed.reason == isolation.TOO_COMPLEX:
                raise FileProblem(TOO_COMPLEX, TOO_COMPLEX_MESSAGE, failed.detail) from None
            return None
        if plain is None:
            return None
        try:
            return Slim.from_plain(plain)
        except (TypeError, ValueError, KeyError, IndexError):
            return None  # only a subverted child sends a wrong shape

    def cancel(self) -> None:
        """Stop the child if nobody will take its package (always safe to call)."""
        self._pending.cancel()

    def left(self, limits: Limits) -> Limits:
        """``limits`` less what making the package took (CPU and wall time): the read that
        uses it is the rest of one read, within one read's limits."""
        cpu, wall = self._pending.spent
        return dataclasses.replace(
            limits,
            cpu_seconds=max(1, int(limits.cpu_seconds - cpu)),
            wall_seconds=max(0.5, limits.wall_seconds - wall),
        )


def start_prepare(data: bytes, limits: Limits) -> Prepared | None:
    """Have a sandboxed child make the slim package of ``data`` while this process goes on
    (``None`` when reads are not isolated: then there is no child to overlap with)."""
    if not limits.isolate:
        return None
    pending = isolation.start_in_child(lambda d: _prepare(d, limits), data, limits, with_bytes=True)
    return Prepared(data, limits, pending)


#: The one package started before the command line was parsed (:func:`prepare_early`).
_early: list[tuple[str, Prepared]] = []


def prepare_file(path: str | os.PathLike[str], limits: Limits) -> Prepared | None:
    """:func:`start_prepare` of the file at ``path``; ``None`` for anything but a regular
    file within ``limits.max_file_bytes`` that can be read (the read then says what is wrong)."""
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > limits.max_file_bytes:
            return None
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return start_prepare(data, limits)


def prepare_early(path: str, limits: Limits) -> None:
    """Start the package of the file at ``path`` before the command is even parsed (the
    console command does, for ``assay screen FILE``): :func:`early_prepared` hands it over."""
    prepared = prepare_file(path, limits)
    if prepared is not None:
        _early.append((os.path.abspath(path), prepared))


def early_prepared(path: str) -> Prepared | None:
    """The package :func:`prepare_early` started for ``path`` (handed over once; one started
    for another file is stopped). Its bytes and limits are checked when it is taken."""
    found = None
    while _early:
        started_for, prepared = _early.pop()
        if found is None and started_for == os.path.abspath(path):
            found = prepared
        else:
            prepared.cancel()
    return found


def cancel_early() -> None:
    """Stop a package started early that no command took."""
    while _early:
        _early.pop()[1].cancel()
