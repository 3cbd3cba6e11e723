"""Helpers shared by the finding-code tests: change one company field, answer or RMAP status."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from plugins.models import Declaration
from plugins.reference import ReferenceData, RmapEntry


def company(decl: Declaration, **fields: str) -> Declaration:
    return replace(decl, company={**decl.company, **fields})


def answer(
    decl: Declaration, q: str, mineral: str, value: str, comment: str | None = None
) -> Declaration:
    answers = tuple(
        replace(a, value=value, raw=value, comment=a.comment if comment is None else comment)
        if (a.question, a.mineral) == (q, mineral)
        else a
        for a in decl.answers
    )
    return replace(decl, answers=answers)


def with_status(ref: ReferenceData, cid: str, status: str, **kw: dt.date) -> ReferenceData:
    assert ref.rmap is not None
    entries = {**ref.rmap.entries, cid: RmapEntry(cid, status, **kw)}
    return replace(ref, rmap_lists=(replace(ref.rmap, entries=entries),))
