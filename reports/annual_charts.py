"""The annual report's charts: SVG text made with matplotlib, ready to inline in HTML.

matplotlib is imported here, inside the functions, so nothing that merely imports the
report (``assay --help``) pays for it. No pyplot and no global backend: each chart is a
:class:`matplotlib.figure.Figure` saved as SVG under ``rc_context``, so the process-wide
settings are left as they were.

Byte-stable: the SVG's ids come from ``svg.hashsalt`` (fixed, one per chart so two charts
in one page never share an id), its metadata carries no date and no creator, and text is
left as text (``svg.fonttype = "none"``) so a browser draws Chinese labels with its own
fonts; matplotlib only measures them (with fonts it may lack: their warnings are muted).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 6.4, 3.2  # inches
PERCENT_TICKS = (0, 20, 40, 60, 80, 100)
COLORS = ("#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#7f8c8d")
RC: dict[str, Any] = {
    "svg.fonttype": "none",
    # Labels are data (campaign names): "$" is a dollar sign, never the start of math text.
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


_ID = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


@dataclass(frozen=True)
class Curve:
    """One campaign's cumulative response rate: (day since opening, percent) steps."""

    label: str
    points: tuple[tuple[int, float], ...]


def response_curve(label: str, first_days: Sequence[int], suppliers: int, last_day: int) -> Curve:
    """Steps of the share of ``suppliers`` that had responded by each day, from day 0 to
    ``last_day`` (or the last first response, if later)."""
    end = max([last_day, *first_days, 0])
    points = [(0, 0.0)]
    done = 0
    for day in sorted(set(first_days)):
        done += sum(1 for d in first_days if d == day)
        points.append((day, round(100 * done / suppliers, 1) if suppliers else 0.0))
    if points[-1][0] < end:
        points.append((end, points[-1][1]))
    return Curve(label, tuple(points))


def _svg(fig: Any, salt: str) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    # Inline in HTML: drop the XML prolog and the DOCTYPE, keep the <svg> element, and
    # give every id the chart's prefix (matplotlib numbers its groups "figure_1", "axes_1",
    # ... afresh in each file: two charts in one page would share them).
    svg = svg[svg.index("<svg") :].strip() + "\n"
    return _ID.sub(lambda m: f"{m.group(1)}{salt}-{m.group(2)}", svg)


@contextmanager
def _quiet() -> Iterator[None]:
    """Mute "Glyph missing from font" while matplotlib measures CJK labels."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def response_chart(
    curves: Sequence[Curve], title: str, xlabel: str, ylabel: str, salt: str = "annual-1"
) -> str:
    """A step chart of each campaign's cumulative response rate (percent by day)."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    with _quiet(), matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(WIDTH, HEIGHT))
        ax = fig.add_subplot()
        for i, curve in enumerate(curves):
            xs = [p[0] for p in curve.points]
            ys = [p[1] for p in curve.points]
            ax.step(xs, ys, where="post", color=COLORS[i % len(COLORS)], label=curve.label)
        # Fixed tick counts: an "auto" locator counts ticks from the axes' size, which
        # depends on how wide the labels measure, and so on the language.
        ax.set_ylim(0, 105)
        ax.set_yticks(PERCENT_TICKS)
        ax.set_xlim(left=0)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        if curves:
            ax.legend(loc="lower right", frameon=False)
        fig.tight_layout()
        return _svg(fig, salt)


def share_chart(
    bars: Sequence[tuple[str, float]], title: str, ylabel: str, salt: str = "annual-2"
) -> str:
    """A bar chart of the conformant share (percent) per metal, each bar labelled."""
    import matplotlib
    from matplotlib.figure import Figure

    with _quiet(), matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = Figure(figsize=(WIDTH, HEIGHT))
        ax = fig.add_subplot()
        labels = [b[0] for b in bars]
        values = [b[1] for b in bars]
        drawn = ax.bar(range(len(bars)), values, color=COLORS[0], width=0.6)
        ax.bar_label(drawn, labels=[f"{v:.1f}%" for v in values], padding=2)
        ax.set_xticks(range(len(bars)), labels)
        ax.set_ylim(0, 110)
        ax.set_yticks(PERCENT_TICKS)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        fig.tight_layout()
        return _svg(fig, salt)
