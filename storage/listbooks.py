"""Reference lists as workbooks (XLSX, XLSM, XLS, ODS): opened in an isolated child.

The engine (python-calamine) is native code and the file came from a website, so it is
opened and read in a forked child with memory, CPU and wall-time limits
(:func:`plugins.isolation.run_in_child`). This is the lists' own opener, not the one for
suppliers' templates: its checks are the ones a list needs (the zip's unpacked size and
ratio, an OLE container decrypted with Excel's default key), and every problem is a
:class:`~storage.listtable.RefDataError` with a sentence for the operator.

What crosses back from the child is JSON: rows of plain values, dates tagged
(:func:`tag_cell`) and rebuilt here (:func:`untag_cell`).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from plugins.isolation import TOO_COMPLEX, ChildFailed, ChildLimits, run_in_child

from .listtable import MAX_ROWS, SAVE_AGAIN, RefDataError, Table, Value, too_many_rows, trim_row

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DEFAULT_PASSWORD = "VelvetSweatshop"  # Excel's built-in "no password" encryption key
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
#: Unpacked, a list is a few MB; beyond these a zip is not a list (or is a 'zip bomb').
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
MAX_RATIO = 100
#: The child's limits: real lists need well under 100 MB and a second.
LIMITS = ChildLimits(memory_bytes=512 * 1024 * 1024, cpu_seconds=20, wall_seconds=30.0)


class _Refused(Exception):
    """In the child: the workbook cannot be used; ``str()`` is the sentence."""


def is_workbook(data: bytes) -> bool:
    """A zip (XLSX, XLSM, ODS) or OLE (XLS) container, by its first bytes."""
    return data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC)


def tag_cell(value: Value) -> Value:
    """A cell value the child can send as JSON (dates tagged, rebuilt by :func:`untag_cell`)."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return {"d": value.date().isoformat()}
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def untag_cell(value: Value) -> Value:
    if isinstance(value, dict):
        try:
            if "d" in value:
                return dt.date.fromisoformat(str(value["d"]))
            if "dt" in value:
                return dt.datetime.fromisoformat(str(value["dt"]))
        except ValueError:
            return ""
        return ""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return ""


def _check_zip(data: bytes) -> None:
    """A spreadsheet's zip: readable, a workbook or an OpenDocument file, and no bomb."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise _Refused(
            "The file is damaged (it looks like a spreadsheet, but its contents are truncated "
            "or corrupt)."
        ) from exc
    names = {i.filename for i in infos}
    if not ({"xl/workbook.xml", "xl/workbook.bin", "content.xml"} & names):
        raise _Refused("The file is a zip archive but not a spreadsheet.")
    total = 0
    for info in infos:
        total += info.file_size
        if total > MAX_UNPACKED_BYTES or (
            info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            raise _Refused(
                "The spreadsheet is far larger once unpacked than any list (a 'zip bomb'), "
                "so it was not read."
            )


def _decrypt_ole(data: bytes) -> bytes:
    """An OLE container (a legacy .xls), decrypted when Excel's default key opens it."""
    import msoffcrypto  # only OLE files need it
    from msoffcrypto.exceptions import DecryptionError, FileFormatError, ParseError

    # Junk OLE files raise these and more; anything else ends the child, and the caller
    # still says the workbook could not be read.
    junk = (FileFormatError, ParseError, OSError, ValueError, EOFError, IndexError, KeyError)
    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
        encrypted = office.is_encrypted()
    except junk as exc:
        raise _Refused(
            "The file looks like an old-format Office document but cannot be read."
        ) from exc
    if not encrypted:
        return data
    out = io.BytesIO()
    try:
        office.load_key(password=DEFAULT_PASSWORD)
        office.decrypt(out)
    except (DecryptionError, *junk) as exc:  # a real password: InvalidKeyError
        raise _Refused(
            "The workbook is protected with a password, so it cannot be read. Remove the "
            "password (File > Info > Protect Workbook)."
        ) from exc
    return out.getvalue()


def _book_rows(data: bytes, wanted: tuple[str, ...]) -> list[Any]:
    """Every (wanted) sheet as JSON-safe rows: ``["ok", [[name, rows]...]]``, or
    ``["refused", sentence]``, ``["too-many-rows", sheet]``, ``["too-wide", sheet, sentence]``."""
    import python_calamine

    if data.startswith(OLE_MAGIC):
        data = _decrypt_ole(data)
    if data.startswith(ZIP_MAGIC):
        _check_zip(data)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise _Refused("The workbook is damaged and cannot be opened.") from exc
    names = list(book.sheet_names)
    chosen = [n for n in names if n in wanted] or names
    out: list[Any] = []
    for name in chosen:
        try:
            # skip_empty_area=False anchors the grid at A1, as the sheet shows it
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except (python_calamine.CalamineError, ValueError) as exc:
            raise _Refused(f"The sheet {name!r} is damaged and cannot be read.") from exc
        if len(rows) > MAX_ROWS:
            return ["too-many-rows", name]
        table = []
        for number, row in enumerate(rows, 1):
            try:
                table.append([tag_cell(v) for v in trim_row(list(row), number)])
            except RefDataError as exc:
                return ["too-wide", name, str(exc)]
        out.append([name, table])
    return ["ok", out]


def _child(data: bytes, wanted: tuple[str, ...]) -> list[Any]:
    """Runs in the isolated child."""
    try:
        return _book_rows(data, wanted)
    except _Refused as exc:
        return ["refused", str(exc)]


def read_workbook(data: bytes, wanted: tuple[str, ...] = ()) -> list[Table]:
    """Every sheet of a workbook (only those named in ``wanted``, when it has any of them)."""
    try:
        answer = run_in_child(lambda d: _child(d, wanted), data, LIMITS)
    except ChildFailed as failed:
        if failed.reason == TOO_COMPLEX:
            raise RefDataError(
                "The workbook needs far more memory or time to read than any list does, so it "
                f"was not read. {SAVE_AGAIN}"
            ) from None
        raise RefDataError(
            "The workbook could not be read: opening it made the spreadsheet engine fail (it "
            f"holds values or structures no spreadsheet program writes). {SAVE_AGAIN}"
        ) from None
    if not isinstance(answer, list) or not answer:
        raise RefDataError(f"The workbook could not be read. {SAVE_AGAIN}")
    if answer[0] == "refused":
        raise RefDataError(f"{answer[1]} {SAVE_AGAIN}")
    if answer[0] == "too-many-rows":
        raise RefDataError(too_many_rows(f"The sheet {answer[1]!r}"))
    if answer[0] == "too-wide":
        text = str(answer[2])
        raise RefDataError(f"In the sheet {answer[1]!r}, {text[:1].lower()}{text[1:]}")
    return [
        Table(str(name), [[untag_cell(v) for v in row] for row in rows]) for name, rows in answer[1]
    ]
