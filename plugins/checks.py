"""What a check is, and what it is given."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .models import Declaration, Finding, Severity
from .reference import ReferenceData

#: Current template revisions: what "outdated" is measured against. Data, not code:
#: overridable under ``[screening.current_versions]`` in the config.
DEFAULT_CURRENT_VERSIONS: dict[str, str] = {"CMRT": "6.5", "EMRT": "2.1", "CRT": "2.2", "AMRT": "1.3"}


@dataclass(frozen=True)
class CheckContext:
    """Everything a check may consult besides the declaration itself."""

    as_of: dt.date
    reference: ReferenceData
    settings: Mapping[str, Any] = field(default_factory=dict)  # this check's [plugins.<id>] block
    current_versions: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CURRENT_VERSIONS))


CheckFn = Callable[[Declaration, CheckContext], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    id: str
    run: CheckFn
    codes: Mapping[str, Severity]  # every code it may emit, with its default severity
    version: str = "1"
    description: str = ""
    plugin: str = ""  # filled in by the registry: which plugin registered it

    def finding(self, code: str, message: str, severity: Severity | None = None, **where: str) -> Finding:
        """A finding of one of this check's declared codes, with its severity.

        ``severity`` raises (never lowers) the declared one, e.g. a response rate of
        "None" is more than a warning.
        """
        if code not in self.codes:
            raise ValueError(f"check {self.id!r} emitted undeclared code {code!r}")
        return Finding(code=code, severity=severity or self.codes[code], message=message, check=self.id, **where)
