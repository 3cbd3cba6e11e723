"""Building the plugin manager. Never at import time: the composition root calls this.

Entry points are found in one pass over the distributions' metadata on ``sys.path``, reading
only each distribution's ``entry_points.txt`` and keeping the ``assay`` group. pluggy's
``load_setuptools_entrypoints`` does the same through :mod:`importlib.metadata`, whose import
alone (the e-mail parser, zipfile, ...) costs more than the scan; start-up is most of what one
``assay screen`` costs. The rules are importlib.metadata's: the first distribution of a name on
``sys.path`` wins, entry points keep their names, and a blocked (disabled) name is never
imported. ``tests/assay/test_startup.py`` checks the scan finds exactly what
importlib.metadata finds.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
from collections.abc import Iterable

import pluggy

from . import hookspecs
from .checks import Check

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "assay"
_ENTRY = re.compile(r"(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+)\s*)?(?:\[.*\]\s*)?$")


def get_plugin_manager(
    disabled: Iterable[str] = (),
    extra_plugins: Iterable[object] = (),
    load_entry_points: bool = True,
) -> pluggy.PluginManager:
    """A plugin manager with every ``assay`` entry point loaded, less ``disabled`` ones.

    ``disabled`` names entry points (plugin modules) to block, as pytest's ``-p no:NAME``;
    single checks are disabled by id in the pipeline instead.
    """
    pm = pluggy.PluginManager("assay")
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    if load_entry_points:
        for name, value in entry_points(ENTRY_POINT_GROUP):
            if pm.get_plugin(name) or pm.is_blocked(name):
                continue
            pm.register(_load(value), name=name)
    for plugin in extra_plugins:
        pm.register(plugin)
    pm.check_pending()  # a misspelt hook name fails loudly here
    return pm


def entry_points(group: str) -> list[tuple[str, str]]:
    """(name, "module:attr") of each entry point in ``group``, as importlib.metadata finds
    them: distributions in ``sys.path`` order, the first of each (normalised) name only."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:  # a zip, a missing directory
            continue
        for meta in names:
            if not meta.endswith((".dist-info", ".egg-info")):
                continue
            dist = re.sub(r"[-_.]+", "_", meta.rpartition(".")[0].split("-")[0]).lower()
            if dist in seen or not os.path.isdir(os.path.join(entry or ".", meta)):
                continue
            seen.add(dist)
            out.extend(_group(os.path.join(entry or ".", meta, "entry_points.txt"), group))
    return out


def _group(path: str, group: str) -> list[tuple[str, str]]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out: list[tuple[str, str]] = []
    section = None
    for line in map(str.strip, lines):
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            out.append((name.strip(), value.strip()))
    return out


def _load(value: str) -> object:
    match = _ENTRY.match(value)
    if match is None:
        raise ValueError(f"malformed entry point {value!r}")
    obj: object = importlib.import_module(match["module"])
    for attr in filter(None, (match["attr"] or "").split(".")):
        obj = getattr(obj, attr)
    return obj


def collect_checks(pm: pluggy.PluginManager) -> dict[str, Check]:
    """Every registered check by id, remembering which plugin registered it."""
    checks: dict[str, Check] = {}
    for impl in pm.hook.assay_register_checks.get_hookimpls():
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)

        def register(obj: object, _plugin: str = plugin_name) -> None:
            check = Check.coerce(obj)
            if check.id in checks:
                raise ValueError(
                    f"check id {check.id!r} registered by {_plugin} is already registered by {checks[check.id].plugin}"
                )
            checks[check.id] = Check(
                check.id, check.run, dict(check.codes), check.version, check.description, _plugin
            )

        impl.function(register=register)
    return dict(sorted(checks.items()))
