"""A progress bar for long work (many files, ``rescreen``, a campaign's sends).

It draws on standard error, and only when standard error is a terminal: piped or redirected
output, a log, a cron mail and a test's captured stream get nothing at all, so the result on
standard output stays the same whether or not a person watches. The bar is one line redrawn
in place with a carriage return, at most ten times a second (a redraw per item would cost more
than a fast item), and cleared at the end so the command's own output starts on a clean line.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

#: Seconds between redraws.
REDRAW_EVERY = 0.1
LABEL_CHARS = 30


_active: list[_Bar] = []  # the bar on screen, if any (one at a time)


def clear_line() -> None:
    """Clear the bar's line before writing a line of output; the next step draws it again."""
    for bar in _active:
        bar.clear()
        bar.last = 0.0


@contextmanager
def progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A callable that advances the bar by ``n``; a bar on stderr when it is a terminal."""
    stream = sys.stderr
    if total <= 0 or not _is_terminal(stream):
        yield _ignore
        return
    bar = _Bar(stream, total, label[:LABEL_CHARS])
    bar.draw()
    _active.append(bar)
    try:
        yield bar.advance
    finally:
        _active.remove(bar)
        bar.clear()


def _ignore(_n: int) -> None:
    pass


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


class _Bar:
    def __init__(self, stream: TextIO, total: int, label: str) -> None:
        self.stream = stream
        self.total = total
        self.label = label
        self.done = 0
        self.last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + max(0, n))
        now = time.monotonic()
        if now - self.last >= REDRAW_EVERY or self.done == self.total:
            self.draw(now)

    def draw(self, now: float | None = None) -> None:
        self.last = time.monotonic() if now is None else now
        width = shutil.get_terminal_size((80, 24)).columns
        counts = f" {self.done}/{self.total}"
        room = max(10, min(40, width - len(self.label) - len(counts) - 4))
        filled = room * self.done // self.total
        line = f"{self.label} [{'#' * filled}{'.' * (room - filled)}]{counts}"
        self._write("\r" + line[: width - 1])

    def clear(self) -> None:
        self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: the work goes on
            pass
