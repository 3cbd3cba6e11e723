"""A third-party plugin, installed as a distribution with an entry point, is picked up.

The plugin's code is the example in README.md, extracted verbatim: if the README's example
breaks, this test fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ASSAY = shutil.which("assay", path=str(Path(sys.executable).parent)) or "assay"


def readme_block(name: str) -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    m = re.search(rf"<!-- {name}:start -->\s*```\w*\n(.*?)```\s*<!-- {name}:end -->", text, re.S)
    assert m, f"README.md has no {name} block"
    return m.group(1)


def install_plugin(site: Path) -> None:
    """What pip would leave behind: the module and a dist-info with entry_points.txt."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "assay_supplier_id.py").write_text(readme_block("example-plugin"), "utf-8")
    dist = site / "assay_supplier_id-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: assay-supplier-id\nVersion: 0.1\n", "utf-8"
    )
    entry_points = (
        readme_block("example-entry-point")
        .replace("[project.entry-points.assay]", "[assay]")
        .replace('"', "")
    )
    (dist / "entry_points.txt").write_text(entry_points, "utf-8")


def test_installed_plugin_adds_its_finding(tmp_path: Path, filled: dict[str, Path]) -> None:
    site = tmp_path / "site"
    install_plugin(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    checks = subprocess.run(
        [ASSAY, "checks"], capture_output=True, text=True, env=env, check=True
    ).stdout
    assert "supplier-id v1 [supplier_id]" in checks
    # The synthetic declaration has a unique ID: remove it in a copy to make the plugin fire.
    from tests.builders import fill

    src = filled["CMRT-6.5"]
    path = fill(src, tmp_path / "no-id.xlsx", {"Declaration": {"D12": None}})
    out = subprocess.run(
        [ASSAY, "screen", "--no-store", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    findings = json.loads(out.stdout)[0]["findings"]
    mine = [f for f in findings if f["code"] == "company-id-missing"]
    assert (
        mine
        and mine[0]["cell"] == "D12"
        and mine[0]["severity"] == "warning"
        and mine[0]["check"] == "supplier-id"
    )
    # Without the plugin installed, the code does not exist.
    plain = subprocess.run(
        [ASSAY, "screen", "--no-store", "--format", "json", str(path)],
        capture_output=True,
        text=True,
    )
    assert "company-id-missing" not in plain.stdout


def test_blocking_a_plugin_by_entry_point_name(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[screening]\ndisabled_plugins = ["check_rmap"]\n', "utf-8")
    out = subprocess.run(
        [ASSAY, "--config", str(cfg), "checks"], capture_output=True, text=True, check=True
    ).stdout
    assert "rmap-status" not in out and "smelter-list" in out
