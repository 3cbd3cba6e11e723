"""The Store: everything Assay keeps, in one SQLite file (sqlite-utils, WAL).

One facade over parts by table family, each a small class standing alone on the shared
connection (``self.db``), none inheriting from another:

- :class:`~storage.submissions.SubmissionStore`: files screened, their results;
- :class:`~storage.originals.OriginalsStore`: the files as received, kept for a period;
- :class:`~storage.suppliers.SupplierStore`: the registry, matching senders, crediting files;
- :class:`~storage.mail.MailStore`: processed messages and the durable outbox;
- :class:`~storage.grievances.GrievanceStore`: grievance cases (encrypted at rest);
- :class:`~storage.refstore.ReferenceStore`: RMAP, CAHRA and smelter reference lists;
- :class:`~storage.campaigns.CampaignStore`: survey campaigns, what they send, files received;
- :class:`~storage.remediations.RemediationStore`: remediations and grades over time;
- :class:`~storage.report_reads.ReportStore`: the latest files and their smelter rows.

:meth:`Store.record_submission` is the one path by which screened files become submissions
(mail, Slack and the CLI): it spans the submission and supplier parts, so it lives here.

What one part needs of another's tables it reaches through a function of the connection
(``enqueue_in``, ``suppliers_listing``), never through the other class. A new family (the
survey campaigns to come) is one more part here. Read methods return the frozen dataclasses
of :mod:`storage.models`; callers never write SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from plugins.reference import ReferenceData

from .arrivals import Arrival, ArrivedFile
from .campaigns import CampaignStore
from .db import migrate, open_database
from .grievances import GrievanceStore
from .mail import MailStore
from .originals import DEFAULT_KEEP_DAYS, OriginalsStore
from .refstore import ReferenceStore
from .remediations import RemediationStore
from .report_reads import ReportStore
from .submissions import SubmissionStore
from .suppliers import SupplierStore
from .transactions import write_transaction


class Store(
    SubmissionStore,
    OriginalsStore,
    SupplierStore,
    MailStore,
    GrievanceStore,
    ReferenceStore,
    CampaignStore,
    RemediationStore,
    ReportStore,
):
    def __init__(
        self,
        path: str | Path,
        files_dir: Path | None = None,
        keep_originals_days: int = DEFAULT_KEEP_DAYS,
    ) -> None:
        """``keep_originals_days``: ``[storage] keep_originals_days`` (0: keep none)."""
        self.path = Path(path)
        self.keep_originals_days = keep_originals_days
        self.db = open_database(path)
        self.files_dir = files_dir or self.path.with_name(self.path.name + ".files")
        self._reference: tuple[tuple[Any, ...], ReferenceData] | None = None
        self.migrate()

    def close(self) -> None:
        self.db.close()

    def data_version(self) -> int:
        """SQLite's ``PRAGMA data_version``: it moves when another connection commits."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in its own transaction. Returns the names applied."""
        return migrate(self.db)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction around several Store writes (each joins it): all or nothing."""
        with write_transaction(self.db):
            yield

    def record_submission(
        self, files: Sequence[ArrivedFile], *, source: str, sender: str = ""
    ) -> Arrival:
        """Record each file's screening (original kept), then match the supplier: by the
        sender's address or domain, else by the company the files declare."""
        for f in files:
            self.record_screening(
                f.sha256,
                f.result,
                filename=f.filename,
                source=source,
                as_of=f.result.as_of,
                data=f.data,
            )
        declared = next(
            (
                f.result.declaration.company.get("company_name", "")
                for f in files
                if f.result.declaration
            ),
            "",
        )
        supplier, how = self.match_supplier(sender, declared)
        mismatch = False
        if supplier and declared and how in ("address", "domain"):
            by_company, _ = self.match_supplier("", declared)
            mismatch = by_company is None or by_company.id != supplier.id
        return Arrival(supplier, how, declared, mismatch)
