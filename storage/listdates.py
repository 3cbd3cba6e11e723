"""The dates of reference lists: list cells, title rows and file names.

RMI is American, so ``11/19/2020`` is month first, unless a column's cells show it is day
first (:func:`slash_order`); RMI's exports also write ``19-Nov-2020``, ``Nov 19, 2020``,
Excel serials and ISO dates. A list's own date is a FULL date in a title row or the file
name; a month or a quarter alone is not a date, and today never stands in for one.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence

from plugins.normalize import clean_text, is_placeholder

from .listtable import Value

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_FIRST_SERIAL, _LAST_SERIAL = 25_000, 80_000  # 1968 .. 2119: any list date
_MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}
_MONTHS["sept"] = 9
_MON = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"


def _date(year: int, month: int, day: int) -> dt.date | None:
    if year < 100:
        year += 2000 if year < 70 else 1900
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _slash(a: int, b: int, year: int, order: str = "") -> dt.date | None:
    """``a/b/year``: RMI is American, month first, unless the first number cannot be a month.

    ``order`` (a column's, from :func:`slash_order`): ``"dmy"`` day first, ``"mdy"`` month
    first, ``"mixed"`` only what one order can read (``19/11/2020``, ``11/19/2020``; never
    ``03/04/2021``).
    """
    if order == "dmy":
        return _date(year, b, a)
    if order == "mdy":
        return _date(year, a, b)
    if order == "mixed" and a <= 12 and b <= 12:
        return None
    return _date(year, b, a) if a > 12 else _date(year, a, b)


_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d\d)(?: [\d:.]+(?: ?[AP]M)?)?", re.I)


def slash_order(values: Iterable[Value]) -> str:
    """How a column writes ``n/n/yyyy`` dates: ``"dmy"`` when some cell's first number is
    above 12 (and none's second is), ``"mixed"`` when both happen, else ``"mdy"``."""
    day_first = month_first = False
    for value in values:
        if not isinstance(value, str):
            continue
        m = _SLASH_DATE.fullmatch(clean_text(value))
        if m:
            a, b = int(m[1]), int(m[2])
            if a > 12 and b > 12:
                continue  # no date in either order
            day_first = day_first or a > 12
            month_first = month_first or b > 12
    if day_first and month_first:
        return "mixed"
    return "dmy" if day_first else "mdy"


def is_ambiguous_slash(value: Value) -> bool:
    """A text date such as ``03/04/2021``: both numbers could be the month."""
    m = _SLASH_DATE.fullmatch(clean_text(value)) if isinstance(value, str) else None
    return m is not None and int(m[1]) <= 12 and int(m[2]) <= 12


_CELL_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], dt.date | None]], ...] = (
    (
        re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?"),
        lambda m: _date(int(m[1]), int(m[2]), int(m[3])),
    ),
    (re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"), lambda m: _date(int(m[1]), int(m[2]), int(m[3]))),
    (
        re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"),
        lambda m: _date(int(m[3]), int(m[2]), int(m[1])),
    ),
    (
        re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?[-\s/.]+{_MON}\.?[-\s/.,]+(\d{{4}}|\d\d)", re.I),
        lambda m: _date(int(m[3]), _MONTHS[m[2].casefold()[:3]], int(m[1])),
    ),
    (
        re.compile(rf"{_MON}\.?[-\s]+(\d{{1,2}})(?:st|nd|rd|th)?,?[-\s]+(\d{{4}})", re.I),
        lambda m: _date(int(m[3]), _MONTHS[m[1].casefold()[:3]], int(m[2])),
    ),
)


def parse_list_date(value: Value, order: str = "") -> dt.date | None:
    """A date cell of a list: real dates, Excel serials and the texts RMI's exports hold.

    ``11/19/2020`` is month first (RMI is American) unless the first number is above 12, or
    ``order`` (the column's :func:`slash_order`) says otherwise; ``19-Nov-2020``,
    ``19 Nov 2020``, ``Nov 19, 2020``, ``2020-11-19`` (with a time or not).
    None for anything else (the caller counts non-empty cells it could not read).
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float):
        if value == value and _FIRST_SERIAL <= value <= _LAST_SERIAL:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        return None
    text = clean_text(value)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return parse_list_date(float(text))
    m = _SLASH_DATE.fullmatch(text)
    if m:
        return _slash(int(m[1]), int(m[2]), int(m[3]), order)
    for pattern, build in _CELL_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            return build(m)
    return None


def is_blank_date(value: Value) -> bool:
    """An empty date cell, or a placeholder ("N/A", "-", "TBD") that means none."""
    return clean_text(value) == "" or is_placeholder(clean_text(value))


_FIND_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], dt.date | None]], ...] = (
    (
        re.compile(r"(?<!\d)((?:19|20)\d\d)([-_./]?)(\d\d)\2(\d\d)(?!\d)"),
        lambda m: _date(int(m[1]), int(m[3]), int(m[4])),
    ),
    (
        re.compile(
            rf"(?<![\d\w])(\d{{1,2}})(?:st|nd|rd|th)?[-_\s.]*{_MON}\.?[-_\s.,]*((?:19|20)\d\d)(?!\d)",
            re.I,
        ),
        lambda m: _date(int(m[3]), _MONTHS[m[2].casefold()[:3]], int(m[1])),
    ),
    (
        re.compile(
            rf"(?<![a-z]){_MON}\.?[-_\s.]*(\d{{1,2}})(?:st|nd|rd|th)?,?[-_\s.]*((?:19|20)\d\d)(?!\d)",
            re.I,
        ),
        lambda m: _date(int(m[3]), _MONTHS[m[1].casefold()[:3]], int(m[2])),
    ),
    (
        re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?![\d/])"),
        lambda m: _slash(int(m[1]), int(m[2]), int(m[3])),
    ),
)


def find_date(text: str) -> dt.date | None:
    """The first FULL date written in a title or a file name; None when there is none.

    ``2025-05-01``, ``20250501``, ``2025_05_01``, ``1-May-2025``, ``1 May 2025``,
    ``May 1, 2025``, ``May_1_2025``, ``05/01/2025``. A month or a quarter alone
    (``2025-05``, ``2025-Q1``) is not a date.
    """
    found: list[tuple[int, dt.date]] = []
    for pattern, build in _FIND_PATTERNS:
        for m in pattern.finditer(text):
            date = build(m)
            if date is not None and 1990 <= date.year <= 2100:
                found.append((m.start(), date))
                break
    return min(found)[1] if found else None


def date_in_cells(row: Sequence[Value]) -> dt.date | None:
    """A date in a title row: a date cell, else a full date written in its text."""
    for cell in row:
        if isinstance(cell, dt.date):
            return cell.date() if isinstance(cell, dt.datetime) else cell
    for cell in row:
        if isinstance(cell, str) and cell.strip():
            date = find_date(cell)
            if date:
                return date
    return None


_CYCLE = re.compile(r"(\d+(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?|m)?\.?", re.I)


def cycle_months(text: str) -> int | None:
    """``"1 Year"`` -> 12, ``"3 Years"`` -> 36, ``"12 months"`` -> 12, ``"3"`` -> 36, ``"18"`` -> 18."""
    t = clean_text(text).casefold()
    if t in ("annual", "annually", "yearly"):
        return 12
    m = _CYCLE.fullmatch(t)
    if not m:
        return None
    n = float(m[1])
    unit = (m[2] or "").casefold()
    months = n if unit.startswith("m") else n * 12 if unit or n <= 5 else n
    return round(months) if 0 < months <= 120 else None


def add_months(date: dt.date, months: int) -> dt.date:
    """``date`` plus ``months`` (the 31st of a shorter month: its last day)."""
    index = date.month - 1 + months
    year, month = date.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))
