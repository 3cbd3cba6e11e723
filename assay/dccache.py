"""Dataclass methods compiled once, kept beside each module's byte code, like a ``.pyc``.

Python 3.11 writes the source of every dataclass's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and (frozen) ``__setattr__``/``__delattr__`` at import and compiles each: ~1.8 ms
per frozen class on a slow machine, ~95 ms of the ~500 ms one ``assay screen`` takes (the
config sections, the models, the reference data: 52 classes). The compiled code depends
on nothing but that source text, so this module keeps it, keyed by the text, in
``__pycache__/<module>.<cache tag>.dataclasses`` next to the module's own byte code (under
``sys.pycache_prefix`` when that is set), and compiles only what is not there. The functions
are still made the ordinary way from the code (their globals, defaults and closures are the
class's own): only ``compile`` is saved. A module's file is read when its first dataclass
is made, so a command reads the methods of the modules it imports, no others.

Written when Python writes byte code (not under ``PYTHONDONTWRITEBYTECODE``), atomically, at
exit, and only for modules that gained something; a missing, foreign or damaged file is
ignored and replaced. Classes made outside a module file (``exec``, the REPL) are compiled
as always. It applies where ``dataclasses._create_fn`` is the function of CPython 3.11 and
3.12 this was written against (3.13 compiles all of a class's methods at once, and is left
alone).
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import marshal
import os
import sys
from types import CodeType
from typing import Any

#: Past this many entries a module's file keeps nothing more (classes made at run time).
MAX_ENTRIES = 2000
_ORIGINAL = getattr(dataclasses, "_create_fn", None)
#: module file -> {source text: code}; and how many entries each had when read or written.
_shards: dict[str, dict[str, CodeType]] = {}
_stored: dict[str, int] = {}


def cache_file(module_file: str) -> str:
    """Where the dataclass methods of the module at ``module_file`` are kept."""
    folder, name = os.path.split(os.path.abspath(module_file))
    stem = name.rpartition(".")[0] or name
    leaf = f"{stem}.{sys.implementation.cache_tag}.dataclasses"
    if sys.pycache_prefix:
        return os.path.join(sys.pycache_prefix, folder.lstrip(os.sep), leaf)
    return os.path.join(folder, "__pycache__", leaf)


def _applies() -> bool:
    code = getattr(_ORIGINAL, "__code__", None)
    return (
        sys.implementation.name == "cpython"
        and sys.version_info[:2] in ((3, 11), (3, 12))
        and code is not None
        and code.co_varnames[:6] == ("name", "args", "body", "globals", "locals", "return_type")
        and bool(sys.implementation.cache_tag)
    )


def _shard(globals: dict[str, Any] | None) -> dict[str, CodeType] | None:
    """The kept code of the module whose globals these are (read on first use)."""
    module_file = (globals or {}).get("__file__")
    if not isinstance(module_file, str) or not module_file.endswith(".py"):
        return None
    shard = _shards.get(module_file)
    if shard is None:
        shard = _shards[module_file] = _read(cache_file(module_file))
        _stored[module_file] = len(shard)
    return shard


def _read(path: str) -> dict[str, CodeType]:
    try:
        with open(path, "rb") as f:
            data = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, CodeType)}


def _create_fn(
    name: str,
    args: list[str],
    body: list[str],
    *,
    globals: dict[str, Any] | None = None,
    locals: dict[str, Any] | None = None,
    return_type: Any = dataclasses.MISSING,
) -> Any:
    """``dataclasses._create_fn`` of CPython 3.11/3.12, with the compiled text looked up first."""
    if locals is None:
        locals = {}
    return_annotation = ""
    if return_type is not dataclasses.MISSING:
        locals["_return_type"] = return_type
        return_annotation = "->_return_type"
    body_text = "\n".join(f"  {b}" for b in body)
    txt = f" def {name}({','.join(args)}){return_annotation}:\n{body_text}"
    local_vars = ", ".join(locals.keys())
    txt = f"def __create_fn__({local_vars}):\n{txt}\n return {name}"
    shard = _shard(globals)
    code = shard.get(txt) if shard is not None else None
    if code is None:
        # dont_inherit: this module's ``from __future__ import annotations`` must not turn the
        # annotations into strings ("_type_name") as it would for code compiled here.
        code = compile(txt, "<string>", "exec", dont_inherit=True)
        if shard is not None and len(shard) < MAX_ENTRIES:
            shard[txt] = code
    ns: dict[str, Any] = {}
    exec(code, globals, ns)
    return ns["__create_fn__"](**locals)


def _save() -> None:
    if sys.dont_write_bytecode:
        return
    for module_file, shard in list(_shards.items()):
        if len(shard) == _stored.get(module_file, 0):
            continue
        path = cache_file(module_file)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                marshal.dump(shard, f)
            os.replace(tmp, path)
            _stored[module_file] = len(shard)
        except OSError:  # a read-only install: compiled each time, as before
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def install() -> bool:
    """Use the kept code for every dataclass made from now on (idempotent; False: this
    Python's dataclasses are not the ones it was written for)."""
    if dataclasses._create_fn is _create_fn:  # type: ignore[attr-defined]
        return True
    if not _applies():
        return False
    dataclasses._create_fn = _create_fn  # type: ignore[attr-defined]
    atexit.register(_save)
    return True
