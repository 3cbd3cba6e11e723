"""Dependencies point one way: plugins <- storage <- {intake, bot} <- assay.

Storage knows the core's models and reference types, never how a supplier's file is
screened: not the pipeline, the plugin manager, the built-in plugins, the sandbox or the
supplier-file opener (reference lists have an opener of their own).
"""

from __future__ import annotations

import ast
import subprocess
import sys
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
#: Modules of an allowed package that a package still may not import (a module and
#: everything under it).
FORBIDDEN_MODULES = {
    "storage": {
        "plugins.pipeline",
        "plugins.manager",
        "plugins.builtin",
        "plugins.sandbox",
        # the supplier-file opener and its parts: reference lists have their own
        "plugins.workbook",
        "plugins.limits",
        "plugins.sniff",
        "plugins.sheet",
        "plugins.bounds",
        "plugins.parts",
        "plugins.hyperlinks",
    },
}


def imports_of(path: Path) -> set[str]:
    return {name.split(".")[0] for name in modules_of(path)}


def modules_of(path: Path) -> set[str]:
    """Every module ``path`` imports, dotted and absolute (``from . import x`` resolved;
    ``from a import b`` counts ``a`` and ``a.b``, since ``b`` may be a module)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            elif node.module:
                module = node.module
            else:
                continue
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _under(module: str, prefixes: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_imports_point_one_way() -> None:
    violations = []
    for package, forbidden in FORBIDDEN.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = imports_of(path) & forbidden
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not violations, violations


def test_storage_imports_no_pipeline() -> None:
    violations = []
    for package, forbidden in FORBIDDEN_MODULES.items():
        for path in (ROOT / package).rglob("*.py"):
            bad = sorted(m for m in modules_of(path) if _under(m, forbidden))
            if bad:
                violations.append(f"{path.relative_to(ROOT)} imports {bad}")
    assert not violations, violations


def test_storage_drags_in_no_pipeline() -> None:
    """Not through another module either: importing every storage module loads none of them."""
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "storage").rglob("*.py")
    )
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print('\\n'.join(sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = set(proc.stdout.split())
    assert not {m for m in loaded if _under(m, FORBIDDEN_MODULES["storage"])}


def test_the_walker_sees_imports() -> None:
    assert "storage" in imports_of(ROOT / "assay" / "app.py")
    assert "plugins.sandbox" in modules_of(ROOT / "plugins" / "pipeline.py")
    assert "plugins.isolation" in modules_of(ROOT / "plugins" / "sandbox.py")
