"""Start-up: ``assay screen --no-store`` imports only what screening needs.

Not timed (a shared machine's timing would make the test flaky or toothless): it runs the real
command in a fresh interpreter and looks at ``sys.modules`` when it exits. The store
(sqlite-utils), the process pool (multiprocessing), fuzzy matching (rapidfuzz, needed only for
a smelter name without an exact match), Slack, Datasette and numpy must not be there.
"""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

from plugins.manager import ENTRY_POINT_GROUP, entry_points, get_plugin_manager

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HEAVY = (
    "sqlite_utils",
    "sqlite3",
    "multiprocessing",
    "concurrent",
    "slack_bolt",
    "slack_sdk",
    "datasette",
    "numpy",
    "openpyxl",
    "matplotlib",
    "importlib.metadata",
    "program.outbox",
    "storage.store",
    "assay.cli_campaign",
    "assay.cli_diff",
    "assay.cli_rollup",
    "assay.cli_report",
)
#: Runs the installed command's entry point and prints, at exit, the modules it imported.
LAUNCHER = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv = ["assay", *sys.argv[1:]]
from assay.__main__ import main
main()
"""


def imported(tmp_path: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *args],
        cwd=tmp_path,  # no var/assay.db here: --no-store screens with the embedded lists
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 2), done.stderr
    assert "risk level:" in done.stdout, "the file was screened"
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_screen_no_store_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    modules = imported(tmp_path, "screen", "--no-store", str(EXAMPLES / "contoso-emrt-2.1.xlsx"))
    assert "plugins.pipeline" in modules, "the launcher ran the real command"
    assert heavy(modules) == []
    assert not any(m.startswith("rapidfuzz") for m in modules)


def test_fuzzy_matching_is_imported_only_for_a_name_without_an_exact_match(tmp_path: Path) -> None:
    """northwind lists a smelter by name only: rapidfuzz is needed, and nothing else heavy."""
    modules = imported(tmp_path, "screen", "--no-store", str(EXAMPLES / "northwind-cmrt-6.5.xlsx"))
    assert "rapidfuzz" in modules
    assert heavy(modules) == []


def test_the_entry_point_scan_finds_what_importlib_metadata_finds() -> None:
    ours = entry_points(ENTRY_POINT_GROUP)
    theirs = [
        (ep.name, ep.value) for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    ]
    assert sorted(ours) == sorted(theirs) and len(ours) >= 10
    scripts = entry_points("console_scripts")
    assert ("assay", "assay.__main__:main") in scripts


def test_a_disabled_plugin_is_never_imported(tmp_path: Path) -> None:
    code = (
        "import sys; from plugins.manager import get_plugin_manager\n"
        "pm = get_plugin_manager(disabled=['check_rmap'])\n"
        "assert pm.get_plugin('check_rmap') is None and pm.is_blocked('check_rmap')\n"
        "assert pm.get_plugin('check_template') is not None\n"
        "sys.exit('plugins.builtin.checks.rmap' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120)
    assert done.returncode == 0


def test_plugins_keep_their_entry_point_names() -> None:
    pm = get_plugin_manager()
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert {name for name, _ in entry_points(ENTRY_POINT_GROUP)} <= names
