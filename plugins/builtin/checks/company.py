"""The company block: required fields, e-mail syntax, placeholders, scope, dates.

A placeholder is "same", "N/A", "-", "TBD", "xxx" and the like in a required field; a
required phone field is also a placeholder when it holds no digit other than 0 or fewer
than five digits ("+0000000000", "000-000-0000", "123").

Settings (``[plugins.company]``): ``max_age_months`` (default 12) for stale declarations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from plugins.checks import Check, CheckContext
from plugins.hookspecs import hookimpl
from plugins.models import Declaration, Finding
from plugins.normalize import is_placeholder, is_placeholder_phone, is_valid_email
from plugins.scope import layout_of

LABELS = {
    "company_name": "Company Name",
    "declaration_scope": "Declaration Scope or Class",
    "scope_description": "Description of Scope",
    "contact_name": "Contact Name",
    "contact_email": "Email – Contact",
    "contact_phone": "Phone – Contact",
    "authorizer": "Authorizer",
    "authorizer_email": "Email – Authorizer",
    "authorizer_title": "Title – Authorizer",
    "authorizer_phone": "Phone – Authorizer",
    "effective_date": "Effective Date",
    "address": "Address",
}
SCOPES = (
    "A. Company",
    "B. Product (or List of Products)",
    "C. User defined [Specify in 'Description of scope']",
)
PHONES = ("contact_phone", "authorizer_phone")
EARLIEST = dt.date(2007, 1, 1)  # the templates' own validation: date > 31-Dec-2006


def _quote(text: str, limit: int = 60) -> str:
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return "'" + cut.replace("'", "’") + "'"


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return dt.date(
        year, month, min(day.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
    )


def run(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    layout = layout_of(decl)
    cells = decl.company_cells
    for name in layout.required_company:
        value = decl.company.get(name, "")
        where = {"sheet": "Declaration", "cell": cells.get(name, ""), "field": name}
        if name == "effective_date":
            continue  # dates are judged below
        if not value:
            yield CHECK.finding(
                "missing-required-field",
                f"{LABELS[name]} ({where['cell']}) is required, but you left it empty.",
                **where,
            )
        elif name in PHONES and is_placeholder_phone(value):
            yield CHECK.finding(
                "placeholder-value",
                f"{LABELS[name]} ({where['cell']}) says {_quote(value)}, which is not a "
                "telephone number; please give a number we can call.",
                **where,
            )
        elif is_placeholder(value):
            yield CHECK.finding(
                "placeholder-value",
                f"{LABELS[name]} ({where['cell']}) says {_quote(value)}, which is a placeholder, "
                "not an answer; please give the actual value.",
                **where,
            )
    for name in ("contact_email", "authorizer_email"):
        value = decl.company.get(name, "")
        if value and not is_placeholder(value) and not is_valid_email(value):
            yield CHECK.finding(
                "invalid-email",
                f"{LABELS[name]} {value!r} is not a valid e-mail address.",
                sheet="Declaration",
                cell=cells.get(name, ""),
                field=name,
            )
    yield from _scope(decl)
    yield from _date(decl, ctx)


def _scope(decl: Declaration) -> Iterator[Finding]:
    cells = decl.company_cells
    scope = decl.company.get("declaration_scope", "")
    where = {
        "sheet": "Declaration",
        "cell": cells.get("declaration_scope", ""),
        "field": "declaration_scope",
    }
    if not scope:
        return
    letter = scope[:2].upper()
    if letter not in ("A.", "B.", "C."):
        yield CHECK.finding(
            "invalid-answer",
            f"Declaration scope {scope!r} is not one of: {', '.join(SCOPES)}.",
            **where,
        )
    elif letter == "C." and not decl.company.get("scope_description"):
        yield CHECK.finding(
            "scope-description-missing",
            "The scope is 'C. User defined' but the Description of Scope is empty.",
            sheet="Declaration",
            cell=cells.get("scope_description", "D10"),
            field="scope_description",
        )
    elif letter == "B." and not any(p.number for p in decl.products):
        named = [p for p in decl.products if p.name]
        extra = (
            f" ({len(named)} product name(s) are there, but column B, the number, is empty)"
            if named
            else ""
        )
        yield CHECK.finding(
            "product-list-missing",
            f"The scope is 'B. Product' but the Product List has no product number{extra}.",
            sheet="Product List",
            cell=f"B{named[0].row}" if named else "B6",
            field="product_number",
        )


def _date(decl: Declaration, ctx: CheckContext) -> Iterator[Finding]:
    where = {
        "sheet": "Declaration",
        "cell": decl.company_cells.get("effective_date", ""),
        "field": "effective_date",
    }
    raw, date = decl.effective_date_raw, decl.effective_date
    if not raw:
        yield CHECK.finding(
            "missing-required-field", "Effective Date is required but empty.", **where
        )
        return
    if date is None:
        yield CHECK.finding(
            "invalid-effective-date",
            f"Effective Date {raw!r} is not a date; use DD-MMM-YYYY, e.g. 15-Jan-2026.",
            **where,
        )
    elif date < EARLIEST:
        yield CHECK.finding(
            "invalid-effective-date",
            f"Effective Date {date.isoformat()} is before 2007, which the template does not allow.",
            **where,
        )
    elif date > ctx.as_of:
        yield CHECK.finding(
            "invalid-effective-date",
            f"Effective Date {date.isoformat()} is in the future (screened on {ctx.as_of.isoformat()}).",
            **where,
        )
    else:
        months = int(ctx.settings.get("max_age_months", 12))
        if date < _months_before(ctx.as_of, months):
            yield CHECK.finding(
                "stale-declaration",
                f"Effective Date {date.isoformat()} is more than {months} months before {ctx.as_of.isoformat()}; please send an updated declaration.",
                **where,
            )


CHECK = Check(
    id="company",
    run=run,
    codes={
        "missing-required-field": "error",
        "placeholder-value": "warning",
        "invalid-email": "warning",
        "invalid-answer": "error",
        "scope-description-missing": "error",
        "product-list-missing": "error",
        "invalid-effective-date": "error",
        "stale-declaration": "warning",
    },
    version="2",
    description="Company information: required fields, e-mails, placeholders, scope, effective date.",
)


@hookimpl
def assay_register_checks(register: Callable[[Check], None]) -> None:
    register(CHECK)
