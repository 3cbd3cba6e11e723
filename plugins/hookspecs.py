"""The plugin contract of Assay. Every built-in reader and check uses these same hooks.

A plugin is a module or object with functions named like the specs below, decorated
with ``pluggy.HookimplMarker("assay")`` (no import of Assay needed), and declared as an
entry point in the ``assay`` group of its distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .checks import Check
    from .models import Declaration
    from .workbook import Workbook

hookspec = pluggy.HookspecMarker("assay")
hookimpl = pluggy.HookimplMarker("assay")


@hookspec(firstresult=True)
def assay_read_template(
    workbook: Workbook, container: str, current_versions: Mapping[str, str]
) -> Declaration | None:
    """Read a supplier's workbook into a :class:`~plugins.models.Declaration`.

    Return ``None`` when the workbook is not yours to read, so the next reader is asked;
    the first non-``None`` answer wins. Raise :class:`~plugins.workbook.FileProblem` when
    the workbook is yours but cannot be screened (legacy version, damaged sheet): its code
    and message become the finding the supplier sees. ``container`` is ``"xlsx"`` or
    ``"xls"``. ``current_versions`` maps each template family to its current revision
    (``[screening.current_versions]``), for messages that name the file to send instead; a
    reader that needs neither argument may leave them out of its signature. Generic readers
    should be declared ``trylast=True``.
    """


@hookspec
def assay_register_checks(register: Callable[[Check], None]) -> None:
    """Register screening checks by calling ``register(check)`` once per check.

    A check is a :class:`~plugins.checks.Check`: a stable ``id`` (used in config to
    disable it or pass it settings), a ``version`` stored with every result it produces,
    the finding ``codes`` it may emit, and a function
    ``run(declaration, context) -> Iterable[Finding]``. Ids must be unique across plugins.
    """
