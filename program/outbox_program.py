"""The program's daily digest as an outbox kind: the dashboard's headline figures, as text.

The figures are stored already formatted (``format_figure`` on the aggregate database, the
same text the board shows), so the digest and the board cannot disagree about rounding and
the notifier needs nothing but the row. A figure and a campaign line are small dataclasses
rather than bare tuples: the codec then checks every field by name and type when it reads a
row back, and a row of the wrong shape fails loudly instead of rendering half. Re-exported
by :mod:`program.outbox`, which lists the kind in its unions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from program.outbox_codec import Payload


@dataclass(frozen=True)
class DigestFigure:
    """One headline figure: its slug (the board's chart), its title, its formatted value."""

    key: str  # "response-rate"
    title: str  # "Response rate"
    text: str  # "87%", "12"


@dataclass(frozen=True)
class DigestCampaign:
    """One open campaign's line: who answered, of how many, and who is overdue."""

    campaign: str  # its name, from outside: escaped where it is shown
    family: str
    responded: int
    suppliers: int
    rate: str  # the response rate as text ("87%")
    overdue: int


@dataclass(frozen=True)
class ProgramDigest(Payload):
    """The day's headline figures for the compliance channel, with the dashboard's link."""

    KIND: ClassVar[str] = "program-digest"
    as_of: str  # ISO date the figures are of
    target: float  # the response-rate target (0-1)
    figures: tuple[DigestFigure, ...]
    campaigns: tuple[DigestCampaign, ...]
    url: str  # the dashboard; shown as a link only when it is a plain http(s) URL
