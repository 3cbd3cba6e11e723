"""SQL expressions for the board's charts: text escaped for HTML, values for a URL, whole
percentages, and links built in SQL (:mod:`reports.dashboard_board` uses them).

datasette-dashboards puts table cells and metric text into ``innerHTML``, so escaping has to
happen in the query: each helper returns an SQL expression (nested ``replace()`` calls), and
link helpers take only integer or slug columns.
"""

from __future__ import annotations

_HTML: tuple[tuple[str, str], ...] = (
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("'", "&#39;"),
)
_URL: tuple[tuple[str, str], ...] = tuple((c, f"%{ord(c):02X}") for c in "% &#+?\"'<>")


def _replaces(expr: str, pairs: tuple[tuple[str, str], ...]) -> str:
    out = f"ifnull(CAST({expr} AS TEXT), '')"
    for old, new in pairs:
        out = f"replace({out}, {sql_string(old)}, {sql_string(new)})"
    return out


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def html_text(expr: str) -> str:
    """SQL: ``expr`` as text safe inside HTML (``& < > " '`` as entities, NULL as '')."""
    return _replaces(expr, _HTML)


def url_value(expr: str) -> str:
    """SQL: ``expr`` as a query-string value (slugs pass unchanged; ``& % # + ?`` space and
    quotes are percent-encoded)."""
    return _replaces(expr, _URL)


def link(path: str, params: tuple[tuple[str, str], ...], label_sql: str) -> str:
    """SQL: an ``<a href=...>`` for a table cell; ``params`` are (name, SQL expression) pairs
    of integer or slug columns, ``label_sql`` is already escaped (or a number)."""
    query = " || '&amp;' || ".join(f"'{name}=' || {url_value(sql)}" for name, sql in params)
    return f"""'<a href="{path}?' || {query} || '">' || {label_sql} || '</a>'"""


def href(path: str, params: tuple[tuple[str, str], ...]) -> str:
    """SQL: a plain URL for a vega-lite ``href`` encoding (no HTML context)."""
    query = " || '&' || ".join(f"'{name}=' || {url_value(sql)}" for name, sql in params)
    return f"'{path}?' || {query}"


def percent_text(expr: str) -> str:
    """SQL: the 0-1 ``expr`` as a whole percent (``87%``), rounded half to even like Python's
    ``f"{v:.0%}"`` (both round the same double ``v * 100``); NULL as ``–``."""
    t = f"(({expr}) * 100.0)"
    i = f"CAST({t} AS INTEGER)"
    return (
        f"CASE WHEN ({expr}) IS NULL THEN '–' "
        f"ELSE (CASE WHEN {t} - {i} > 0.5 THEN {i} + 1 WHEN {t} - {i} < 0.5 THEN {i} "
        f"ELSE {i} + ({i} % 2) END) || '%' END"
    )
