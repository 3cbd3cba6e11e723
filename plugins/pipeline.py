"""The screening pipeline: read the workbook (first reader that claims it), run every
enabled check, and return all findings at once, in a documented order.

Order: checks run sorted by id (never in pluggy's registration order); findings are
sorted by severity (error, risk, warning, info), sheet, row, column, code and smelter id.
A check that raises is reported as an ``internal-error`` finding naming it, and the other
checks still run. After all checks ran, findings that restate another are folded into it
(:mod:`plugins.fold`): one cause, one finding.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import pluggy

from .checks import DEFAULT_CURRENT_VERSIONS, Check, CheckContext
from .countries import warm as warm_countries
from .fold import fold_findings
from .lookup_cache import LookupCache, LookupTable
from .manager import collect_checks
from .models import Declaration, Finding, ScreeningResult, Severity
from .reference import ReferenceData
from .sandbox import CRASH_MESSAGE, start_isolated
from .slim import Prepared, Slim
from .sniff import Sniffed
from .workbook import FileProblem, Limits, open_workbook

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal-error"


def read_workbook(
    pm: pluggy.PluginManager,
    data: bytes,
    limits: Limits,
    current_versions: Mapping[str, str] = DEFAULT_CURRENT_VERSIONS,
    sniffed: Sniffed | None = None,
    lookup_cache: LookupCache | None = None,
    prepared: Slim | None = None,
) -> Declaration:
    """Open workbook bytes and ask the readers for a declaration (runs inside the sandbox).

    ``lookup_cache``: Smelter Look-ups parsed before; one parsed here is put in it.
    ``prepared``: the slim package of ``data``, made ahead (:mod:`plugins.slim`)."""
    decl, learned, _hit = _read(pm, data, limits, current_versions, sniffed, lookup_cache, prepared)
    if learned is not None and lookup_cache is not None:
        lookup_cache.put(*learned)
    return decl


def _read(
    pm: pluggy.PluginManager,
    data: bytes,
    limits: Limits,
    current_versions: Mapping[str, str],
    sniffed: Sniffed | None,
    lookup_cache: LookupCache | None,
    prepared: Slim | None = None,
) -> tuple[Declaration, tuple[str, LookupTable] | None, str | None]:
    """The declaration, the Look-up table parsed on a cache miss (key, table), and the key
    the cache had a table for (``""``: a miss, ``None``: it was not asked)."""
    opened = open_workbook(data, limits, sniffed, prepared)
    opened.workbook.lookup_cache = lookup_cache
    try:
        decl: Declaration | None = pm.hook.assay_read_template(
            workbook=opened.workbook,
            container=opened.container,
            current_versions=dict(current_versions),
        )
    except FileProblem:
        raise
    except (KeyError, IndexError, ValueError, TypeError, AttributeError) as exc:
        # A reader tripping over a workbook is our bug, but the sender still needs an answer.
        log.exception("reader failed on a workbook")
        raise FileProblem(
            "unreadable-file",
            "This workbook could not be read: its layout does not match the RMI template it "
            "claims to be. Please fill in an unmodified copy of the current template.",
            repr(exc),
        ) from exc
    if decl is None:
        raise FileProblem(
            "not-a-template",
            "This spreadsheet is not an RMI reporting template (CMRT, EMRT, CRT or AMRT). "
            f"Please fill in the current {_named(current_versions, 'CMRT')} or "
            f"{_named(current_versions, 'EMRT')} from responsibleminerals.org and send that file.",
        )
    cut = opened.workbook.truncations
    if cut:
        truncated = tuple((t.sheet, t.last_row_read, t.last_row) for t in cut)
        decl = replace(decl, meta=replace(decl.meta, truncated=truncated))
    return decl, opened.workbook.learned_lookup, opened.workbook.lookup_hit


def _named(versions: Mapping[str, str], family: str) -> str:
    """``"CMRT (Revision 6.5)"``."""
    return f"{family} (Revision {versions.get(family, '')})"


def _read_as_dict(
    pm: pluggy.PluginManager,
    data: bytes,
    limits: Limits,
    current_versions: Mapping[str, str],
    sniffed: Sniffed | None = None,
    lookup_cache: LookupCache | None = None,
    prepared: Slim | None = None,
) -> dict[str, Any]:
    """What the sandbox sends back: the declaration as the store keeps it (plain JSON), and
    a Smelter Look-up parsed on a cache miss, for the parent to keep."""
    decl, learned, lookup_hit = _read(
        pm, data, limits, current_versions, sniffed, lookup_cache, prepared
    )
    answer: dict[str, Any] = {"declaration": decl.to_dict()}
    if learned is not None:
        answer["lookup"] = [learned[0], learned[1].to_plain()]
    if lookup_cache is not None and lookup_hit is not None:
        answer["lookup_hit"] = lookup_hit
    return answer


def file_finding(code: str, message: str, check: str = "reader") -> Finding:
    severity: Severity = "warning" if code == INTERNAL_ERROR else "error"
    return Finding(code=code, severity=severity, message=message, check=check)


class Screener:
    """Reads and screens files with one plugin manager, reference data and settings.

    The date a file is screened against is resolved at each screening: ``as_of`` when one is
    fixed (config, ``--as-of``), else ``clock()``, today's date in the configured zone. A
    service keeps one screener for weeks, so the date must never be fixed when it is built.
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        reference: ReferenceData,
        *,
        as_of: dt.date | None = None,
        clock: Callable[[], dt.date] = dt.date.today,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
        disabled_checks: Iterable[str] = (),
        current_versions: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        reference_provider: Callable[[], ReferenceData] | None = None,
        max_list_age_days: int = 90,
        lookup_cache: LookupCache | None = None,
    ) -> None:
        self.pm = pm
        self._reference = reference
        # A long-running service passes the store's (cached) reference data here, so a newly
        # loaded RMAP or CAHRA list applies to the next screening without a restart.
        self._reference_provider = reference_provider
        self.fixed_as_of = as_of
        self.clock = clock
        self.settings = dict(settings or {})
        self.limits = limits or Limits()
        self.current_versions = dict(current_versions or DEFAULT_CURRENT_VERSIONS)
        self.max_list_age_days = max_list_age_days
        # Parsed Smelter Look-ups (plugins.lookup_cache); the store's entries are copied into
        # memory now, before any fork (a sandboxed child or a pool worker) inherits it.
        self.lookup_cache = lookup_cache
        if lookup_cache is not None:
            lookup_cache.warm()
        disabled = set(disabled_checks)
        self.checks: dict[str, Check] = {
            k: c for k, c in collect_checks(pm).items() if k not in disabled
        }

    def screening_date(self) -> dt.date:
        """The date a screening starting now is measured against."""
        return self.fixed_as_of or self.clock()

    # -- reading -------------------------------------------------------------------
    def read(
        self, data: bytes, sniffed: Sniffed | None = None, prepared: Prepared | None = None
    ) -> Declaration:
        """Declaration of workbook bytes; raises FileProblem for anything unscreenable.

        Untrusted bytes are opened and read in a sandboxed child (:mod:`plugins.sandbox`):
        whatever the file makes the engine do, the answer is a declaration or a FileProblem.
        ``prepared``: :func:`plugins.slim.start_prepare` of ``data``, started by a caller
        that knew the file before it built this screener.
        """
        slim = prepared.take(data, self.limits) if prepared is not None else None
        limits = self.limits if slim is None or prepared is None else prepared.left(self.limits)
        if not self.limits.isolate:
            return read_workbook(
                self.pm,
                data,
                self.limits,
                self.current_versions,
                sniffed,
                self.lookup_cache,
                slim,
            )
        read = functools.partial(
            _read_as_dict,
            self.pm,
            limits=self.limits,
            current_versions=self.current_versions,
            sniffed=sniffed,
            lookup_cache=self.lookup_cache,
            prepared=slim,
        )
        reading = start_isolated(read, data, limits)
        try:
            self._while_reading()
        except BaseException:
            reading.cancel()
            raise
        answer = reading.result()
        try:
            decl = Declaration.from_dict(answer["declaration"])
            learned = answer.get("lookup")
            hit = answer.get("lookup_hit")
            if self.lookup_cache is not None and isinstance(hit, str):
                self.lookup_cache.note(hit=bool(hit))
                if hit:
                    self.lookup_cache.promote(hit)
            if learned is not None and self.lookup_cache is not None:
                key, rows = learned
                if not (isinstance(key, str) and len(key) == 64):
                    raise ValueError("a look-up key is a 256-bit digest")
                self.lookup_cache.put(key, LookupTable.from_plain(rows))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # Only a subverted child sends an answer of the wrong shape.
            raise FileProblem("unreadable-file", CRASH_MESSAGE, repr(exc)[:300]) from exc
        return decl

    def _while_reading(self) -> None:
        """What the checks will need, built while the sandboxed child reads (the machine's
        other core): the reference lists' name index and the country names. Only what every
        screening uses; fuzzy matching stays unimported until a name needs it."""
        self.reference.warm()
        warm_countries()

    # -- screening -----------------------------------------------------------------
    def screen_bytes(
        self, data: bytes, sniffed: Sniffed | None = None, prepared: Prepared | None = None
    ) -> ScreeningResult:
        """``sniffed``: :func:`plugins.sniff.sniff` of ``data``, when the caller has it;
        ``prepared``: its slim package, being made (see :meth:`read`)."""
        as_of = self.screening_date()
        try:
            decl = self.read(data, sniffed, prepared)
        except FileProblem as problem:
            return ScreeningResult(
                declaration=None,
                findings=(file_finding(problem.code, problem.message),),
                check_versions={},
                reference_versions=self.reference_versions(),
                readable=False,
                as_of=as_of,
            )
        return self.screen(decl, as_of)

    @property
    def reference(self) -> ReferenceData:
        if self._reference_provider is not None:
            self._reference = self._reference_provider()
        return self._reference

    def screen(self, decl: Declaration, as_of: dt.date | None = None) -> ScreeningResult:
        """Run the checks on a declaration, against ``as_of`` (default: :meth:`screening_date`)."""
        as_of = as_of or self.screening_date()
        findings: list[Finding] = []
        reference = self.reference
        for check_id, check in self.checks.items():
            ctx = CheckContext(
                as_of=as_of,
                reference=reference,
                settings=self.settings.get(check_id, {}),
                current_versions=self.current_versions,
            )
            try:
                produced = [check.coerce_finding(item) for item in check.run(decl, ctx)]
            except Exception as exc:  # a crashing check must never hide the others
                log.exception("check %s crashed", check_id)
                findings.append(
                    Finding(
                        code=INTERNAL_ERROR,
                        severity="warning",
                        message=f"The check {check_id!r} failed ({type(exc).__name__}); its findings are missing. The other checks ran.",
                        check=check_id,
                    )
                )
                continue
            findings.extend(produced)
        # One cause, one finding: restatements fold into the finding that names their cells.
        folded = fold_findings(findings)
        return ScreeningResult(
            declaration=decl,
            findings=tuple(folded),
            check_versions={k: c.version for k, c in self.checks.items()},
            reference_versions=self.reference_versions(),
            notices=self.notices(reference, as_of),
            as_of=as_of,
        )

    def notices(
        self, reference: ReferenceData | None = None, as_of: dt.date | None = None
    ) -> tuple[str, ...]:
        """The reference lists in force that are older than ``max_list_age_days``."""
        ref = reference or self.reference
        day = as_of or self.screening_date()
        return tuple(s.message for s in ref.stale_lists(day, self.max_list_age_days))

    def reference_versions(self) -> dict[str, str]:
        ref = self.reference
        return {
            "smelters": ref.smelter_list_version,
            "rmap": ", ".join(r.version for r in ref.rmap_lists),
            "cahra": ref.cahra_version,
        }
