"""A CLI that behaves: usage errors exit 2 with one line, directories expand to the templates
inside, several files end with a summary table, and progress shows only on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from assay.app import FileResult, screen_file
from assay.cli import cli
from assay.cli_files import COMPANY_CHARS, FILE_CHARS, expand_paths, summary_table
from assay.render import result_text
from plugins.models import Declaration, Finding, ScreeningResult, TemplateMeta

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
UNSAFE = [chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))] + [
    "\u202e",
    "\u202a",
    "\u2066",
    "\u200f",
    "\u2028",
]


def run(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(cli, args, prog_name="assay")


def one_error_line(result: click.testing.Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["screen", "--no-store", "{tmp}/nope.xlsx"], "no such file or directory"),
        (["screen", "--no-store", "{tmp}/empty"], "no .xlsx, .xlsm or .xls file"),
        (["screen", "--no-store", "--as-of", "2026-13-01", "{ex}"], "not a YYYY-MM-DD date"),
        (["screen"], "Missing argument"),
        (["rescreen", "--as-of", "yesterday", "--db", "{tmp}/a.db"], "not a YYYY-MM-DD date"),
        (["grievance", "list", "--status", "bogus", "--db", "{tmp}/a.db"], "'bogus' is not one of"),
        (["grievance", "update", "G-1", "--status", "done", "--db", "{tmp}/a.db"], "is not one of"),
        (["diff", "--as-of", "2026-02-30", "{ex}", "{ex}"], "not a YYYY-MM-DD date"),
        (
            ["campaign", "create", "C", "--template", "CMRT", "--deadline", "31/12/2026"],
            "not a YYYY-MM-DD date",
        ),
        (["campaign", "send", "C", "--as-of", "2026-00-10", "--db", "{tmp}/a.db"], "YYYY-MM-DD"),
        (["refdata", "import-cahra", "{ex}", "--as-of", "20260"], "not a YYYY-MM-DD date"),
        (["report", "smelters", "--columns", "everything"], "is not one of"),
        (["no-such-command"], "No such command"),
    ],
)
def test_a_usage_error_exits_2_with_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not a template")
    ex = str(EXAMPLES / "contoso-emrt-2.1.xlsx")
    line = one_error_line(run([a.format(tmp=tmp_path, ex=ex) for a in args]))
    assert says in line and line.endswith("--help')")
    assert not (tmp_path / "a.db").exists(), "a usage error touches no database"


def test_a_hostile_path_in_a_usage_error_stays_one_line(tmp_path: Path) -> None:
    line = one_error_line(run(["screen", "--no-store", str(tmp_path / "a\nb\x1b[2J\u202e.xlsx")]))
    assert not any(ch in line for ch in UNSAFE)


def test_the_missing_status_today_printed_nothing_and_exited_0(tmp_path: Path) -> None:
    """A known status still works (the check is not a blanket refusal)."""
    result = run(["grievance", "list", "--status", "MERGED", "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 0, result.output


def test_a_directory_expands_to_the_templates_inside(tmp_path: Path) -> None:
    for rel in (
        "b.xlsx",
        "a.XLSX",
        "sub/deeper/c.xlsm",
        "sub/d.xls",
        "sub/notes.txt",
        "sub/report.pdf",
        ".hidden.xlsx",
        ".git/e.xlsx",
        "sub/.cache/f.xlsx",
        "~$b.xlsx",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / "folder.xlsx").mkdir()  # a directory named like a template is walked, not read
    loose = tmp_path / "given-as-is.dat"
    loose.write_bytes(b"x")
    found = expand_paths([tmp_path, loose])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.XLSX",
        "b.xlsx",
        "sub/d.xls",
        "sub/deeper/c.xlsm",
        "given-as-is.dat",
    ]


def test_an_empty_directory_and_a_missing_path_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(click.UsageError, match=r"no \.xlsx"):
        expand_paths([tmp_path])
    (tmp_path / ".only-hidden.xlsx").write_bytes(b"x")
    with pytest.raises(click.UsageError, match=r"no \.xlsx"):
        expand_paths([tmp_path])
    with pytest.raises(click.UsageError, match="no such file"):
        expand_paths([EXAMPLES / "contoso-emrt-2.1.xlsx", tmp_path / "missing.xlsx"])


def _result(
    file: str, company: str, findings: Sequence[Finding] = (), readable: bool = True
) -> FileResult:
    decl = Declaration(TemplateMeta("CMRT", "6.5", "CMRT_6.x"), company={"company_name": company})
    return FileResult(
        file,
        "0" * 64,
        ScreeningResult(decl if readable else None, tuple(findings), readable=readable),
    )


def test_each_file_s_text_has_no_terminal_controls() -> None:
    """A company name, file name or message carrying ANSI escapes (calamine decodes Excel's
    ``_x001B_``) or bidi overrides is printed without them: no recolouring, no retitled
    terminal, no line that pretends to be another finding."""
    hostile = "ACME\x1b[31mRED\x1b]0;pwned\x07\x1b[0m\u202e\nINFO  fake-finding"
    finding = Finding("missing-field", "warning", "Company " + hostile, sheet="Declaration")
    text = result_text(_result("dir/\x1b[1mbold\u202e.xlsx", hostile, [finding]))
    lines = text.splitlines()
    assert not any(ch in line for line in lines for ch in UNSAFE), repr(text)
    assert "ACME[31mRED]0;pwned[0m INFO fake-finding" in lines[1]
    assert len(lines) == 6  # file, template line, risk, WARNING, the finding, reference


def test_the_summary_table_keeps_hostile_names_on_one_line() -> None:
    hostile = "\x1b[31mEvil\x07 Corp\u202e gnp.exe\nInjected row\r" + "Long" * 200
    risk = Finding("smelter-in-covered-country", "risk", "m")
    warn = Finding("stale-template", "warning", "m")
    table = summary_table(
        [
            _result("dir/one.xlsx", "Fabrikam Synthetic Ltd.", [risk, warn, warn]),
            _result("dir/" + "n\u202eame" * 30 + ".xlsx", hostile),
            _result("dir/broken.xlsx", "", readable=False),
        ]
    )
    lines = table.splitlines()
    assert len(lines) == 5, table  # header, three rows, totals
    assert not any(ch in line for line in lines for ch in UNSAFE)
    header, one, two, broken, totals = lines
    assert header.split() == [
        "file",
        "template",
        "company",
        "verdict",
        "error",
        "risk",
        "warning",
        "info",
    ]
    assert one.split()[:2] == ["dir/one.xlsx", "CMRT"] and "Fabrikam Synthetic Ltd." in one
    assert one.split()[-5:] == ["HIGH", "0", "1", "2", "0"]
    assert "Evil Corp gnp.exe Injected" in two and "…" in two
    shown = two.split()[0]
    assert (
        shown.startswith("…") and shown.endswith("name" * 10 + ".xlsx") and len(shown) == FILE_CHARS
    )
    assert max(len(w) for w in two.split("  ") if w) <= max(FILE_CHARS, COMPANY_CHARS)
    assert two.split()[-5:] == ["LOW", "0", "0", "0", "0"]
    assert broken.split()[1:] == ["-", "-", "NOT", "READ", "0", "0", "0", "0"]
    assert totals == "3 file(s): 1 HIGH, 1 LOW, 1 NOT READ"


def _fake_pool(calls: list[dict[str, object]]) -> types.ModuleType:
    """``assay.pool`` as its contract says (helper C's module screens in worker processes)."""

    def screen_files(
        screener: object,
        paths: Sequence[Path],
        store: object,
        source: str = "cli",
        jobs: int | None = None,
        on_done: Callable[[int], None] | None = None,
    ) -> Iterator[FileResult]:
        calls.append({"paths": list(paths), "source": source, "on_done": on_done})
        for p in paths:
            fr = screen_file(screener, p, store, source)  # type: ignore[arg-type]
            if on_done is not None:
                on_done(1)
            yield fr

    module = types.ModuleType("assay.pool")
    module.screen_files = screen_files  # type: ignore[attr-defined]
    return module


def test_several_files_end_with_a_summary_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setitem(sys.modules, "assay.pool", _fake_pool(calls))
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a-contoso.xlsx").write_bytes((EXAMPLES / "contoso-emrt-2.1.xlsx").read_bytes())
    (folder / "sub" / "b-northwind.xlsx").write_bytes(
        (EXAMPLES / "northwind-cmrt-6.5.xlsx").read_bytes()
    )
    (folder / "readme.txt").write_text("skipped")
    result = run(["screen", "--no-store", "--as-of", "2026-06-30", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "", "no progress bar when stderr is not a terminal"
    [call] = calls
    assert [p.name for p in call["paths"]] == ["a-contoso.xlsx", "b-northwind.xlsx"]  # type: ignore[attr-defined]
    tail = result.stdout.rstrip("\n").splitlines()[-4:]
    assert tail[0].split()[:4] == ["file", "template", "company", "verdict"]
    assert tail[1].split()[0].endswith("a-contoso.xlsx")
    assert (
        "EMRT" in tail[1]
        and "b-northwind.xlsx" in tail[2]
        and "Northwind Synthetic Metals Ltd." in tail[2]
    )
    assert tail[2].split()[-5] == "HIGH"
    assert tail[3].startswith("2 file(s): ")


def test_one_file_has_no_summary_and_json_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "assay.pool", _fake_pool([]))
    ex = str(EXAMPLES / "contoso-emrt-2.1.xlsx")
    one = run(["screen", "--no-store", ex])
    assert one.exit_code == 0 and "file(s):" not in one.stdout
    two = run(["screen", "--no-store", "--format", "json", ex, ex])
    assert (
        two.exit_code == 0 and "file(s):" not in two.stdout and two.stdout.lstrip().startswith("[")
    )


def test_an_unreadable_file_among_several_still_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "assay.pool", _fake_pool([]))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"garbage")
    result = run(["screen", "--no-store", str(bad), str(EXAMPLES / "contoso-emrt-2.1.xlsx")])
    assert result.exit_code == 2
    assert result.stdout.rstrip().splitlines()[-1].endswith("1 NOT READ")


PROGRESS = (
    "import sys; from assay.progress import progress\n"
    "with progress(3, 'screening') as advance:\n"
    "    for _ in range(3): advance(1)\n"
    "print('done')\n"
)


def test_progress_draws_nothing_when_piped() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRESS], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0 and done.stdout == "done\n" and done.stderr == ""


def test_progress_draws_on_a_terminal() -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", PROGRESS],
            stdout=subprocess.PIPE,
            stderr=slave,
            cwd=ROOT,
            env={**os.environ, "COLUMNS": "80"},
        )
        os.close(slave)
        drawn = b""
        while select.select([master], [], [], 30)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        assert proc.wait(timeout=60) == 0
        assert proc.stdout is not None and proc.stdout.read() == b"done\n"
    finally:
        os.close(master)
    text = drawn.decode()
    assert "screening [" in text and "3/3" in text and "#" * 10 in text
    assert text.endswith("\r\x1b[K"), "the bar is cleared at the end"
