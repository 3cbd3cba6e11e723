"""What arrives: screened files becoming submissions, the one path for mail, Slack and the CLI.

:meth:`storage.store.Store.record_submission` records each file's screening (and keeps its
original), then matches the supplier: by the sender's address or domain, else by the company
the files declare. It decides nothing else; what the team is told about a submission is
:func:`program.digest.submission_alerts`, queued by the caller with its message record.
"""

from __future__ import annotations

from dataclasses import dataclass

from plugins.models import ScreeningResult

from .models import Supplier


@dataclass(frozen=True)
class ArrivedFile:
    sha256: str
    filename: str
    data: bytes
    result: ScreeningResult


@dataclass(frozen=True)
class Arrival:
    """The supplier a submission was matched to, and how."""

    supplier: Supplier | None
    how: str  # "address", "domain", "company" or "" (not matched)
    declared: str  # the company the first readable file declares ("" if none)
    # Matched by who sent it, but the declared company is registered to another supplier
    # (or to none): the team is told.
    sender_mismatch: bool = False

    @property
    def by_sender(self) -> bool:
        """Recognised by who sent it (never by the company a file declares)."""
        return self.supplier is not None and self.how in ("address", "domain")

    @property
    def supplier_id(self) -> int | None:
        return self.supplier.id if self.supplier else None

    def label(self, fallback: str) -> str:
        """Who the submission alert names: the supplier, else the declared company."""
        return self.supplier.name if self.supplier else (self.declared or fallback)
