"""Normalisation of what real filled templates contain.

Real files carry trailing tabs, full-width spaces, literal ``0`` left by ``OFFSET()`` on an
empty look-up cell, "100%" stored as the number 1, and effective dates as datetimes, text
("02-May-2024") or Excel serial numbers. Everything is normalised here, once, so checks
compare clean values.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

_WS = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
#: The most characters an Excel cell can hold; a longer value (hostile XML) is cut to it.
MAX_CELL_CHARS = 32_767
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def clean_text(value: object) -> str:
    """Text of a cell: whitespace (tabs, full-width and no-break spaces) collapsed, ends stripped.

    A literal ``0`` (number or text) is blank: it is an artefact of the template's look-up
    formulas, never a real answer in a text field.
    """
    if type(value) is str:
        # The hot path: a Smelter List has ~20 text fields per row, most of them "".
        if not value:
            return ""
        text = value if len(value) <= MAX_CELL_CHARS else value[:MAX_CELL_CHARS]
        if text.isprintable() and "  " not in text:
            text = text.strip()
        else:
            text = _WS.sub(" ", text).strip()
        return "" if text == "0" else text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float):
        if value == 0:
            return ""
        text = repr(value)[:-2] if value.is_integer() else repr(value)
    elif isinstance(value, int):
        if value == 0:
            return ""
        text = str(value)
    elif isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    else:
        text = str(value)[:MAX_CELL_CHARS]
    text = _WS.sub(" ", text).strip()
    return "" if text == "0" else text


def clean_answer(value: object) -> str:
    """An answer picked from a drop-down: clean text, with 1 / 1.0 / "1" read as "100%"."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 1:
        return "100%"
    text = clean_text(value)
    if text in ("1", "1.0"):
        return "100%"
    return text


def canonical_choice(text: str, allowed: tuple[str, ...]) -> str:
    """Map an answer to its allowed spelling, ignoring case and inner whitespace."""
    key = text.casefold().replace(" ", "")
    for choice in allowed:
        if choice.casefold().replace(" ", "") == key:
            return choice
    return text


_DATE_FORMATS = (
    "%d-%b-%Y",
    "%d-%B-%Y",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y/%m/%d",
    "%d %b %Y",
    "%b %d, %Y",
    "%d-%b-%y",
)


def parse_date(value: object) -> dt.date | None:
    """Effective date from a datetime, date, Excel serial, ISO or DD-MMM-YYYY text; else None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's valid serial range
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        return None
    text = clean_text(value)
    if not text:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_date(float(text))
    text = text.split("T")[0] if re.match(r"\d{4}-\d\d-\d\dT", text) else text
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def clean_cid(value: object) -> str:
    """A smelter id as typed: upper-cased, inner spaces removed (``cid 002082`` -> ``CID002082``)."""
    return clean_text(value).upper().replace(" ", "")


def is_cid(value: str) -> bool:
    """``CID`` + 6 digits (the hot path of every smelter check, so no regex)."""
    return (
        len(value) == 9 and value.startswith("CID") and value[3:].isdigit() and value[3:].isascii()
    )


def strip_required_marker(label: str) -> str:
    """``'Cobalt(*)'`` -> ``'Cobalt'``."""
    return clean_text(label).replace("(*)", "").strip()


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """A name reduced for exact comparison: case, punctuation and company suffixes ignored."""
    text = clean_text(name).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    text = re.sub(
        r"\b(co|ltd|limited|inc|corp|corporation|company|gmbh|ag|sa|s a|spa|s p a|llc|plc|bv|nv|kk|pte|pvt|the)\b",
        " ",
        text,
    )
    return " ".join(text.split())


# A pragmatic RFC 5322 subset: what a mail server will accept from a person.
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}$"
)


def is_valid_email(text: str) -> bool:
    return bool(_EMAIL_RE.match(text))


PLACEHOLDERS = frozenset(
    {
        "same",
        "same as above",
        "same as contact",
        "same as left",
        "as above",
        "see above",
        "ditto",
        "n/a",
        "n / a",
        "na",
        "n.a.",
        "n.a",
        "not applicable",
        "not available",
        "none",
        "nil",
        "nothing",
        "-",
        "--",
        "---",
        ".",
        "0",
        "x",
        "xx",
        "xxx",
        "tbd",
        "tba",
        "tbc",
        "to be determined",
        "to be confirmed",
        "pending",
        "unknown",
        "test",
        "null",
        "?",
        "/",
    }
)
# Only punctuation ("- -", "…", "***"), only x's ("XXXX"), or only zeros and phone
# punctuation ("+0000000000", "000-000-0000").
_FILLER = re.compile(r"[\W_]+|x+|[+(]?0[0\s().+/-]*", re.IGNORECASE)


def is_placeholder(text: str) -> bool:
    """A value that stands for "no answer": "same", "N/A", "-", "TBD", "xxx", "000-000-0000"."""
    clean = clean_text(text).casefold()
    if not clean:
        return False
    return (
        clean in PLACEHOLDERS or clean.rstrip(".") in PLACEHOLDERS or bool(_FILLER.fullmatch(clean))
    )


#: Fewer digits than this is no telephone number (the shortest national numbers have 5).
MIN_PHONE_DIGITS = 5


def is_placeholder_phone(text: str) -> bool:
    """A phone field that holds no number: a placeholder, no digit other than 0, or fewer
    than :data:`MIN_PHONE_DIGITS` digits ("0", "+0000000000", "123", "see e-mail")."""
    if is_placeholder(text):
        return True
    digits = [ch for ch in clean_text(text) if ch.isdigit() and ch.isascii()]
    return len(digits) < MIN_PHONE_DIGITS or all(d == "0" for d in digits)
