"""Bad input gets a clear finding, quickly and in bounded memory, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from plugins.pipeline import Screener
from tests import hostile
from tests.builders import real_template, template

pytestmark = pytest.mark.slow

ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"
TIME_LIMIT_S = 10.0
MEMORY_LIMIT_MB = 300


# The measured command runs as the child of a small launcher, not of pytest: a process
# spawned straight from pytest inherits pytest's peak RSS (the kernel carries the high-water
# mark across exec), which would be counted as the command's.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
with open(sys.argv[1], "wb") as out, open(sys.argv[2], "wb") as err:
    proc = subprocess.Popen(sys.argv[4:], stdout=out, stderr=err)
    _pid, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[3], "w") as f:
    f.write(f"{os.waitstatus_to_exitcode(status)} {time.perf_counter() - start} {usage.ru_maxrss}")
"""


def run_measured(args: list[str], tmp: Path) -> tuple[int, str, str, float, float]:
    """Run the CLI; return exit code, stdout, stderr, seconds and peak RSS (MB) of that process
    and its children (the sandboxed reader), which it reaps itself."""
    out_path, err_path, figures = tmp / "stdout.txt", tmp / "stderr.txt", tmp / "figures.txt"
    subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(out_path), str(err_path), str(figures), ASSAY, *args],
        check=True,
    )
    code, seconds, maxrss = figures.read_text().split()
    return int(code), out_path.read_text(), err_path.read_text(), float(seconds), int(maxrss) / 1024


def _filled(filled: dict[str, Path]) -> bytes:
    return filled["CMRT-6.5"].read_bytes()


CASES: dict[str, tuple[Callable[[dict[str, Path]], bytes], str, str]] = {
    "random-bytes": (lambda f: hostile.random_bytes(), "unreadable-file", "not an Excel workbook"),
    "truncated-zip": (lambda f: _filled(f)[: len(_filled(f)) // 2], "unreadable-file", "damaged"),
    "empty-file": (lambda f: b"", "unreadable-file", "empty"),
    "zip-bomb": (lambda f: hostile.zip_bomb(20), "unreadable-file", "zip bomb"),
    "200mb-sheet": (
        lambda f: hostile.huge_sheet(200),
        "unreadable-file",
        "larger than any RMI template",
    ),
    "encrypted": (
        lambda f: hostile.encrypt(_filled(f), "a-secret-password"),
        "unreadable-file",
        "password",
    ),
    "entity-expansion": (
        lambda f: hostile.entity_expansion(),
        "not-a-template",
        "not an RMI reporting template",
    ),
    "legacy-xls": (
        lambda f: real_template("legacy/EICC-GeSI_CMRT_3.01_blank_encrypted.xls").read_bytes(),
        "unsupported-template-version",
        ".xls",
    ),
    "legacy-xlsx": (
        lambda f: template("legacy/EICC_CMRT_2.03a_blank.xlsx").read_bytes(),
        "unsupported-template-version",
        "2.03a",
    ),
}


REAL_FILES = {"legacy-xls"}  # RMI's encrypted .xls: no synthetic stands in for it


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.conformance) if c in REAL_FILES else c
        for c in sorted(CASES)
    ],
)
def test_bad_file_gives_one_clear_finding(
    tmp_path: Path, filled: dict[str, Path], case: str
) -> None:
    make, code, phrase = CASES[case]
    path = tmp_path / f"{case}.xlsx"
    path.write_bytes(make(filled))
    rc, out, err, seconds, peak_mb = run_measured(
        ["screen", "--no-store", "--format", "json", str(path)], tmp_path
    )
    assert "Traceback" not in err and "Traceback" not in out
    assert rc == 2, "a file that could not be read at all exits 2"
    [result] = json.loads(out)
    assert result["readable"] is False and result["declaration"] is None
    [finding] = result["findings"]
    assert finding["code"] == code and finding["severity"] == "error"
    assert phrase.casefold() in finding["message"].casefold()
    assert seconds < TIME_LIMIT_S, f"{case} took {seconds:.1f}s"
    assert peak_mb < MEMORY_LIMIT_MB, f"{case} peaked at {peak_mb:.0f} MB"


def test_default_password_encryption_is_read(screener: Screener, filled: dict[str, Path]) -> None:
    """Excel's 'VelvetSweatshop' encryption protects nothing: such a file is screened normally."""
    data = hostile.encrypt(filled["CMRT-6.5"].read_bytes(), "VelvetSweatshop")
    result = screener.screen_bytes(data)
    assert result.readable and result.declaration is not None
    assert result.declaration.company["company_name"] == "Synthetic Components Ltd."


def test_missing_file_is_a_usage_error_not_raised(tmp_path: Path) -> None:
    rc, out, err, _s, _m = run_measured(
        ["screen", "--no-store", "--format", "json", str(tmp_path / "nope.xlsx")], tmp_path
    )
    assert rc == 2 and "Traceback" not in err and out == ""
    assert err.strip().startswith("Error: no such file or directory")


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path, filled: dict[str, Path]) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"garbage")
    rc, out, _err, _s, _m = run_measured(
        [
            "screen",
            "--no-store",
            "--as-of",
            "2026-06-30",
            "--format",
            "json",
            str(bad),
            str(filled["CMRT-6.5"]),
        ],
        tmp_path,
    )
    results = json.loads(out)
    assert rc == 2
    assert [r["readable"] for r in results] == [False, True]
    assert results[1]["declaration"]["company_name"] == "Synthetic Components Ltd."
