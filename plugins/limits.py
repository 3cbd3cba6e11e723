"""What a supplier's file may cost us, and the error when the file is the supplier's to fix.

:class:`Limits` bounds every step of reading an untrusted workbook (the zip directory, the
inflated parts, the rows read, the sandboxed child's memory and time); :class:`FileProblem`
is the supplier's-fault exception family that the pipeline turns into a finding and a reply.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds on what we inflate and read; every number is configurable under ``[limits]``."""

    max_file_bytes: int = 30 * 1024 * 1024
    max_entry_bytes: int = 32 * 1024 * 1024  # real templates: 5 MB at most
    max_total_bytes: int = 128 * 1024 * 1024  # real templates: 10 MB
    max_ratio: int = 100  # real templates: 10 at most; uncompressed/compressed beyond which a big entry is a bomb
    # Rows read from one sheet: templates have at most 2,504; a 100,000-row Smelter List is
    # read whole within the memory limit. Beyond it: a ``too-many-rows`` error naming the
    # last row read, never a silent cut.
    max_rows: int = 100_000
    # The sandbox (plugins.sandbox): a workbook is opened and read in a child process with
    # these hard limits. Real templates need ~100 MB and well under a second.
    memory_bytes: int = 512 * 1024 * 1024  # address space the child may add to what it inherits
    cpu_seconds: int = 20
    wall_seconds: float = 30.0
    isolate: bool = True  # False only for trusted files (tests of pure reading code)


TOO_COMPLEX = "file-too-complex"
TOO_MANY_ROWS = "too-many-rows"
TOO_COMPLEX_MESSAGE = (
    "This workbook needs far more memory or time to open than any RMI template does (it "
    "refers to cells far outside the template, or holds values no spreadsheet program "
    "writes), so it was not screened. Please copy your answers into a fresh copy of the "
    "current template and send that file."
)


class FileProblem(Exception):
    """The file cannot be screened, and it is the sender's to fix. Becomes a finding."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


def too_complex(detail: str) -> FileProblem:
    """The ``file-too-complex`` problem (``detail`` is for the log, never the sender)."""
    return FileProblem(TOO_COMPLEX, TOO_COMPLEX_MESSAGE, detail)
