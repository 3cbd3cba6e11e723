"""The JSON form of :mod:`program.outbox`'s types: dataclasses to objects and back, strictly.

A field is stored under its name, or under ``json_name(...)`` given in its metadata (for a
Python keyword or builtin: ``"from"``, ``"list"``); a field with ``metadata=OPTIONAL`` is
left out while it equals its default. Decoding follows the field's annotation (text, whole
numbers, numbers, true/false, tuples, nested dataclasses, ``X | None``) and raises
:class:`OutboxError` naming the first field that is unknown, missing or of the wrong type.
:class:`Payload` is the base of every kind (its ``KIND``, ``VERSION`` and ``to_json``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

_OPTIONAL = "outbox_optional"  # field metadata: left out of the JSON while empty
_JSON_NAME = "outbox_name"  # field metadata: the field's name in the JSON

T = TypeVar("T")


class OutboxError(ValueError):
    """A stored payload this build cannot read (unknown kind or version, a bad field)."""


class Payload:
    """What every kind has: its ``KIND``, its schema ``VERSION`` and :meth:`to_json`."""

    KIND: ClassVar[str]
    VERSION: ClassVar[int] = 1
    #: Keys earlier rows of this kind carried that mean nothing now (read and dropped).
    DROPPED: ClassVar[frozenset[str]] = frozenset()

    def to_json(self) -> str:
        return to_json(self, self.KIND, self.VERSION)


#: Field metadata: the field may be absent from the JSON, and is left out while it equals
#: its default (``field(default=..., metadata=OPTIONAL)``).
OPTIONAL: Mapping[str, Any] = {_OPTIONAL: True}


def json_name(name: str) -> Mapping[str, Any]:
    """Field metadata: the field is stored under another name (a Python keyword, a builtin)."""
    return {_JSON_NAME: name}


def to_json(obj: object, kind: str, version: int) -> str:
    """``obj`` as a JSON object headed by its ``kind`` and ``version``."""
    return json.dumps({"kind": kind, "version": version, **_encode(obj)}, ensure_ascii=False)


def from_json(text: str, kinds: Mapping[str, type[T]], channel: str) -> T:
    """The object of one of ``kinds`` that ``text`` holds (see :func:`program.outbox.decode`)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise OutboxError(f"an {channel} payload that is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise OutboxError(f"an {channel} payload that is not a JSON object")
    kind = data.pop("kind", None)
    cls = kinds.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise OutboxError(f"unknown {channel} kind {str(kind)[:40]!r}")
    version = data.pop("version", 1)  # rows written before versions existed
    wanted = getattr(cls, "VERSION", 1)
    if version != wanted or isinstance(version, bool):
        raise OutboxError(
            f"{kind}: version {repr(version)[:20]} unknown (this build reads {wanted})"
        )
    for key in getattr(cls, "DROPPED", ()):
        data.pop(key, None)
    return _build(cls, data, str(kind))


def _encode(obj: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if f.metadata.get(_OPTIONAL) and value == f.default:
            continue
        out[f.metadata.get(_JSON_NAME, f.name)] = _plain(value)
    return out


def _plain(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _encode(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type[T], data: dict[str, Any], where: str) -> T:
    fields = {f.metadata.get(_JSON_NAME, f.name): f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise OutboxError(f"{where}: unknown field {unknown[0][:40]!r}")
    hints = _hints(typing.cast(type, cls))
    values: dict[str, Any] = {}
    for key, f in fields.items():
        if key in data:
            values[f.name] = _value(hints[f.name], data[key], f"{where}.{key}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise OutboxError(f"{where}: field {key!r} missing")
    return cls(**values)


def _value(tp: Any, value: object, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin is types.UnionType or origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _value(args[0], value, where)
    if origin is tuple:
        if not isinstance(value, list):
            raise OutboxError(f"{where}: a list expected")
        item = typing.get_args(tp)[0]
        return tuple(_value(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise OutboxError(f"{where}: an object expected")
        return _build(tp, value, where)
    if tp is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise OutboxError(f"{where}: a whole number expected")
    if tp is str and not isinstance(value, str):
        raise OutboxError(f"{where}: text expected")
    if tp is bool and not isinstance(value, bool):
        raise OutboxError(f"{where}: true or false expected")
    if tp is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise OutboxError(f"{where}: a number expected")
        return float(value)
    return value
