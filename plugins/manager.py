"""Building the plugin manager. Never at import time: the composition root calls this."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pluggy

from . import hookspecs
from .checks import Check

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "assay"


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
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        pm.register(plugin)
    pm.check_pending()  # a misspelt hook name fails loudly here
    return pm


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
