"""What a check is, and what it is given."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .models import MAX_RELATED, SEVERITIES, Declaration, Finding, Severity
from .reference import ReferenceData
from .revisions import DEFAULT_CURRENT_VERSIONS as DEFAULT_CURRENT_VERSIONS  # (its old home)


def revision(versions: Mapping[str, str], family: str) -> str:
    """How messages name a family's current template: ``"CMRT Revision 6.5"``."""
    return f"{family} Revision {versions.get(family, '')}".strip()


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may consult besides the declaration itself."""

    as_of: dt.date
    reference: ReferenceData
    settings: Mapping[str, Any] = field(default_factory=dict)  # this check's [plugins.<id>] block
    current_versions: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_CURRENT_VERSIONS)
    )


CheckFn = Callable[[Declaration, CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    id: str
    run: CheckFn
    codes: Mapping[str, Severity]  # every code it may emit, with its default severity
    version: str = "1"
    description: str = ""
    plugin: str = ""  # filled in by the registry: which plugin registered it

    def finding(
        self, code: str, message: str, *, related: Iterable[str] = (), **where: str
    ) -> Finding:
        """A finding of one of this check's declared codes, with its severity.

        ``where`` holds sheet, cell, mineral, smelter_id and field; a ``severity`` there
        overrides the declared one (a response rate of "None" is more than a warning).
        ``related`` names the other cells involved, as ``"Sheet!Cell"``.
        """
        if code not in self.codes:
            raise ValueError(f"check {self.id!r} emitted undeclared code {code!r}")
        severity = where.pop("severity", None) or self.codes[code]
        if severity not in SEVERITIES:
            raise ValueError(f"check {self.id!r}: unknown severity {severity!r}")
        others = tuple(dict.fromkeys(str(r) for r in related if r))[:MAX_RELATED]
        return Finding(
            code=code, severity=severity, message=message, check=self.id, related=others, **where
        )

    @classmethod
    def coerce(cls, obj: Any) -> Check:
        """A Check from a Check, or from any object or dict with ``id``, ``run`` and ``codes``
        (so a third-party plugin needs no import of Assay)."""
        if isinstance(obj, cls):
            return obj
        get = obj.get if isinstance(obj, dict) else lambda k, d=None: getattr(obj, k, d)
        check_id, run, codes = get("id"), get("run"), get("codes")
        if (
            not isinstance(check_id, str)
            or not check_id
            or not callable(run)
            or not isinstance(codes, Mapping)
        ):
            raise TypeError(f"not a check (needs id: str, run: callable, codes: mapping): {obj!r}")
        for code, sev in codes.items():
            if sev not in SEVERITIES:
                raise ValueError(f"check {check_id!r}: code {code!r} has unknown severity {sev!r}")
        return cls(
            check_id, run, dict(codes), str(get("version", "1")), str(get("description", ""))
        )

    def coerce_finding(self, item: Any) -> Finding:
        """Findings may be returned as :class:`Finding` or as dicts with the same keys."""
        if isinstance(item, Finding):
            if not isinstance(item.related, tuple):
                item = dataclasses.replace(item, related=tuple(map(str, item.related)))
            return item if item.check else dataclasses.replace(item, check=self.id)
        if isinstance(item, dict):
            data = dict(item)
            code = data.pop("code")
            message = data.pop("message")
            data.pop("check", None)
            related = data.pop("related", None) or ()
            if isinstance(related, str):
                related = (related,)
            return self.finding(
                code,
                message,
                related=tuple(str(r) for r in related),
                **{k: str(v) for k, v in data.items() if v is not None},
            )
        raise TypeError(f"check {self.id!r} returned {item!r}, not a finding")
