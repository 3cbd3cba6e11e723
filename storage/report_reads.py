"""What the reports read: each supplier's latest files, and the smelter rows of files.

Rows only; which file counts and what the rows mean is :mod:`program.smelter_list`'s and
the reports' business.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import sqlite_utils

from .campaign_models import AttemptRow


class ReportStore:
    db: sqlite_utils.Database

    if TYPE_CHECKING:  # CampaignStore's, on the same Store

        def attempts_since(
            self, since: str, supplier_ids: Iterable[int] | None = None
        ) -> dict[int, list[AttemptRow]]: ...

    def latest_files(
        self,
        *,
        family: str = "",
        since: str = "",
        supplier_ids: Iterable[int] | None = None,
    ) -> dict[int, list[AttemptRow]]:
        """Each supplier's latest readable, verified file of each template family (only
        ``family`` when given), received at or after ``since``: newest first.

        Verified: tied to the supplier by who sent it, or put in by staff (see
        :class:`storage.campaign_models.AttemptRow`); a file that merely declares a
        supplier's name never speaks for it.
        """
        ids = None if supplier_ids is None else list(supplier_ids)
        out: dict[int, list[AttemptRow]] = {}
        seen: set[tuple[int, str]] = set()
        for sid, rows in self.attempts_since(since, ids).items():
            if ids is not None and sid not in ids:
                continue
            for a in reversed(rows):
                if not (a.readable and a.verified and a.template_type):
                    continue
                if family and a.template_type != family:
                    continue
                if (sid, a.template_type) in seen:
                    continue
                seen.add((sid, a.template_type))
                out.setdefault(sid, []).append(a)
        return out

    def smelter_rows_of(
        self, shas: Sequence[str], batch: int = 400
    ) -> Iterator[tuple[str, str, str, str, str, str, str]]:
        """(sha256, metal, smelter_id, name, country, lookup, mine_countries) of every stored
        smelter row of these files, file by file in row order."""
        for i in range(0, len(shas), batch):
            part = list(shas[i : i + batch])
            yield from (
                (s, m or "", c or "", n or "", k or "", lk or "", mc or "")
                for s, m, c, n, k, lk, mc in self.db.execute(
                    "select sha256, metal, smelter_id, name, country, lookup, mine_countries "
                    f"from smelter_rows where sha256 in ({', '.join('?' * len(part))}) "
                    "order by sha256, row",
                    part,
                )
            )
