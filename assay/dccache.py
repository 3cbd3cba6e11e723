"""Dataclass methods compiled once, kept beside the byte code, like a ``.pyc``.

Python 3.11 writes the source of every dataclass's ``__init__``, ``__repr__``, ``__eq__``,
``__hash__`` and (frozen) ``__setattr__``/``__delattr__`` at import and compiles each: ~1.8 ms
per frozen class on a slow machine, ~95 ms of the ~500 ms one ``assay screen`` takes (the
config sections, the models, the reference data: 52 classes). The compiled code depends
on nothing but that source text, so this module keeps it, keyed by the text, in
``__pycache__/dataclass-methods.<cache tag>.marshal`` next to the package's byte code, and
compiles only what is not there. The functions are still made the ordinary way from the
code (their globals, defaults and closures are the class's own); only ``compile`` is saved.

Written when Python writes byte code (not under ``PYTHONDONTWRITEBYTECODE``), atomically, at
exit and only if something was added; a missing, foreign or damaged file is ignored. It
applies where ``dataclasses._create_fn`` is the function of CPython 3.11 and 3.12 this was
written against (3.13 compiles all of a class's methods at once, and is left alone).
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

#: Past this many entries nothing more is kept (classes made at run time, in a long test run).
MAX_ENTRIES = 4000
_ORIGINAL = getattr(dataclasses, "_create_fn", None)
_codes: dict[str, CodeType] = {}
_loaded = 0  # entries in the file as read (or last written)
_path = ""


def cache_path() -> str:
    """Where the compiled methods are kept (under ``sys.pycache_prefix`` when it is set)."""
    here = os.path.dirname(os.path.abspath(__file__))
    name = f"dataclass-methods.{sys.implementation.cache_tag}.marshal"
    if sys.pycache_prefix:
        return os.path.join(sys.pycache_prefix, here.lstrip(os.sep), name)
    return os.path.join(here, "__pycache__", name)


def _applies() -> bool:
    fn = _ORIGINAL
    code = getattr(fn, "__code__", None)
    return (
        sys.implementation.name == "cpython"
        and sys.version_info[:2] in ((3, 11), (3, 12))
        and code is not None
        and code.co_varnames[:6] == ("name", "args", "body", "globals", "locals", "return_type")
        and bool(sys.implementation.cache_tag)
    )


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
    code = _codes.get(txt)
    if code is None:
        # dont_inherit: this module's ``from __future__ import annotations`` must not turn the
        # annotations into strings ("_type_name") as it would for code compiled here.
        code = compile(txt, "<string>", "exec", dont_inherit=True)
        if len(_codes) < MAX_ENTRIES:
            _codes[txt] = code
    ns: dict[str, Any] = {}
    exec(code, globals, ns)
    return ns["__create_fn__"](**locals)


def _load(path: str) -> None:
    try:
        with open(path, "rb") as f:
            data = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return
    global _loaded
    if isinstance(data, dict):
        _codes.update(
            (k, v) for k, v in data.items() if isinstance(k, str) and isinstance(v, CodeType)
        )
    _loaded = len(_codes)


def _save() -> None:
    global _loaded
    path = _path
    if not path or len(_codes) == _loaded or sys.dont_write_bytecode:
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "wb") as f:
            marshal.dump(_codes, f)
        os.replace(tmp, path)
        _loaded = len(_codes)
    except OSError:  # a read-only install: compiled each time, as before
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def install() -> bool:
    """Use the cache for every dataclass made from now on (idempotent; False: not applicable)."""
    if dataclasses._create_fn is _create_fn:  # type: ignore[attr-defined]
        return True
    if not _applies():
        return False
    global _path
    _path = cache_path()
    _load(_path)
    dataclasses._create_fn = _create_fn  # type: ignore[attr-defined]
    atexit.register(_save)
    return True
