"""The console command's head start (assay.__main__): for `assay screen FILE` the file's slim
package is started before the command line is parsed. It may only ever save time: the same
output and exit status as the command without it, whatever the file or the options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assay.__main__ import screened_file
from tests import hostile

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = hostile.EXAMPLE


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["screen", "f.xlsx"], "f.xlsx"),
        (["screen", "--no-store", "--as-of", "2026-01-01", "f.xlsx"], "f.xlsx"),
        (["--config", "c.toml", "screen", "--format=json", "f.xlsx"], "f.xlsx"),
        (["--config=c.toml", "screen", "--db", "x.db", "--", "-f.xlsx"], "-f.xlsx"),
        (["screen", "a.xlsx", "b.xlsx"], None),  # several files: the pool's work
        (["screen"], None),
        (["screen", "--help", "f.xlsx"], None),
        (["screen", "--unknown", "f.xlsx"], None),
        (["--verbose", "screen", "f.xlsx"], None),
        (["rescreen"], None),
        (["smelter", "f.xlsx"], None),
        ([], None),
    ],
)
def test_the_one_file_is_found_only_on_a_plain_command_line(
    argv: list[str], expected: str | None
) -> None:
    assert screened_file(argv) == expected


def _run(tmp_path: Path, early: bool, *args: str, prelude: str = "") -> tuple[int, str, str]:
    """The command with (``assay.__main__``, the console script's) or without
    (``assay.cli.main``) the head start; ``prelude`` runs first."""
    module = "assay.__main__" if early else "assay.cli"
    code = f"{prelude}import sys; from {module} import main; sys.argv[0] = 'assay'; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def _files(tmp_path: Path) -> dict[str, Path]:
    data = EXAMPLE.read_bytes()
    files = {
        "example": EXAMPLE,
        "far-cell": hostile.far_cell(data),
        "bomb": hostile.zip_bomb(20),
        "random": hostile.random_bytes(30_000),
        "truncated": data[: len(data) // 3],
        "empty": b"",
    }
    out = {}
    for name, content in files.items():
        if isinstance(content, Path):
            out[name] = content
        else:
            out[name] = tmp_path / f"{name}.xlsx"
            out[name].write_bytes(content)
    # Past [limits] max_file_mb (30): no child is started for it, the read refuses it by size.
    out["oversized"] = tmp_path / "oversized.xlsx"
    with out["oversized"].open("wb") as f:
        f.write(data)
        f.truncate(31 * 1024 * 1024)
    return out


@pytest.mark.parametrize(
    "name", ["example", "far-cell", "bomb", "random", "truncated", "empty", "oversized"]
)
def test_the_head_start_changes_no_answer(tmp_path: Path, name: str) -> None:
    path = _files(tmp_path)[name]
    args = ("screen", "--no-store", "--as-of", "2026-01-01", str(path))
    with_early, without = _run(tmp_path, True, *args), _run(tmp_path, False, *args)
    assert with_early == without
    assert with_early[0] in (0, 2) and "Traceback" not in with_early[2]
    if name != "example":  # a file that cannot be screened: exit 2 and a sentence for it
        assert with_early[0] == 2
        assert "unreadable-file" in with_early[1] or "file-too-complex" in with_early[1]


def test_a_config_with_other_limits_reads_without_the_head_start(tmp_path: Path) -> None:
    config = tmp_path / "assay.toml"
    config.write_text("[limits]\nmax_rows = 3000\n")
    args = ("--config", str(config), "screen", "--no-store", "--as-of", "2026-01-01", str(EXAMPLE))
    assert _run(tmp_path, True, *args) == _run(tmp_path, False, *args)


@pytest.mark.parametrize(
    "args",
    [
        ("screen", "--format", "yaml", str(EXAMPLE)),
        ("screen", "--as-of", "yesterday", str(EXAMPLE)),
        ("screen", "--help"),
    ],
)
def test_usage_errors_and_help_are_unchanged(tmp_path: Path, args: tuple[str, ...]) -> None:
    with_early, without = _run(tmp_path, True, *args), _run(tmp_path, False, *args)
    assert with_early == without
    assert with_early[0] in (0, 2)


def test_the_head_start_is_taken_for_a_plain_command(tmp_path: Path) -> None:
    """(The equalities above would hold as well if it were never taken.) The package is
    handed over, and the read uses it: had it made its own, the patched maker would have
    failed the read."""
    prelude = (
        "import atexit, sys\n"
        "import plugins.slim as s, plugins.workbook as w\n"
        "taken = []\n"
        "real = s.early_prepared\n"
        "s.early_prepared = lambda p: taken.append(real(p)) or taken[-1]\n"
        "def made_here(*a, **k): raise AssertionError('the read made its own package')\n"
        "w.slim_package = made_here\n"
        "atexit.register(lambda: print('taken:', [t is not None for t in taken], file=sys.stderr))\n"
    )
    args = ("screen", "--no-store", "--as-of", "2026-01-01", str(EXAMPLE))
    code, out, err = _run(tmp_path, True, *args, prelude=prelude)
    assert code == 0, err
    assert "taken: [True]" in err
    assert out == _run(tmp_path, False, *args)[1]


def test_a_command_started_without_stderr_exits_as_it_should(tmp_path: Path) -> None:
    code = "import sys; from assay.__main__ import main; sys.argv[0] = 'assay'; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "screen", "--no-store", str(EXAMPLE)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.close(2),  # started with stderr closed: sys.stderr is None
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "risk level:" in done.stdout
