"""Dependencies point one way: plugins <- storage <- {intake, bot} <- assay."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "plugins": {"storage", "intake", "bot", "assay"},
    "storage": {"intake", "bot", "assay"},
    "intake": {"bot", "assay"},
    "bot": {"intake", "assay"},
    "program": {"storage", "intake", "bot", "assay", "reports"},
    "reports": {"intake", "bot", "assay"},
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_point_one_way() -> None:
    violations = []
    for package, forbidden in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = imports_of(path) & forbidden
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, violations


def test_the_walker_sees_imports() -> None:
    assert "storage" in imports_of(ROOT / "assay" / "app.py")
