"""The plugin folders hold plugins only, and every one of them is an entry point.

Built-in readers and checks are loaded exactly as a third-party plugin is: through the
``assay`` entry-point group. A module under ``plugins/builtin/`` with a hook implementation
that is not declared in ``pyproject.toml`` would silently never run; a module there without
one is a helper that belongs with the core modules in ``plugins/``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import tomllib
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
BUILTIN = ROOT / "plugins" / "builtin"
GROUP = "assay"


def builtin_modules() -> list[str]:
    """Dotted names of every module in the plugin folders (packages' ``__init__`` aside)."""
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in BUILTIN.rglob("*.py")
        if path.name != "__init__.py"
    )


def hook_implementations(module_name: str) -> list[str]:
    """Functions of the module marked with ``pluggy.HookimplMarker("assay")``."""
    module = importlib.import_module(module_name)
    return sorted(
        name
        for name, obj in vars(module).items()
        if callable(obj)
        and getattr(obj, f"{GROUP}_impl", None) is not None
        and getattr(obj, "__module__", "") == module_name
    )


def declared_in_pyproject() -> dict[str, str]:
    """Entry-point name -> module, from ``[project.entry-points.assay]``."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        project = tomllib.load(f)["project"]
    return dict(project.get("entry-points", {}).get(GROUP, {}))


def installed() -> dict[str, str]:
    """Entry-point name -> module, as the installed ``assay`` distribution declares them."""
    return {
        ep.name: ep.value
        for ep in importlib.metadata.entry_points(group=GROUP)
        if ep.dist is not None and ep.dist.name == "assay"
    }


@pytest.mark.parametrize("module", builtin_modules())
def test_every_module_in_the_plugin_folders_is_a_plugin(module: str) -> None:
    assert hook_implementations(module), (
        f"{module} has no @hookimpl: a helper module belongs in plugins/, not in the "
        "plugin folders under plugins/builtin/"
    )


@pytest.mark.parametrize("module", builtin_modules())
def test_every_plugin_module_is_an_entry_point(module: str) -> None:
    if not hook_implementations(module):
        pytest.skip(f"{module} is no plugin (reported by the test above)")
    declared = declared_in_pyproject()
    assert module in declared.values(), (
        f"{module} implements {', '.join(hook_implementations(module))} but is not declared "
        f"under [project.entry-points.{GROUP}] in pyproject.toml, so it is never loaded"
    )
    assert module in installed().values(), (
        f"{module} is declared in pyproject.toml but not in the installed metadata: "
        "re-run `pip install -e .`"
    )


def test_the_installed_entry_points_are_those_of_pyproject() -> None:
    declared, found = declared_in_pyproject(), installed()
    assert found == declared, (
        f"installed entry points differ from pyproject.toml (re-run `pip install -e .`): "
        f"only declared {sorted(set(declared.items()) - set(found.items()))}, "
        f"only installed {sorted(set(found.items()) - set(declared.items()))}"
    )


@pytest.mark.parametrize("name", sorted(declared_in_pyproject()))
def test_every_entry_point_names_a_plugin_module(name: str) -> None:
    module = declared_in_pyproject()[name]
    assert module in builtin_modules(), f"entry point {name} = {module!r}: no such built-in module"
    assert hook_implementations(module), f"entry point {name} = {module!r} implements no hook"
