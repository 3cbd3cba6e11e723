"""assay.dccache: dataclass methods from kept compiled code are the methods Python makes."""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assay import dccache

pytestmark = pytest.mark.skipif(
    not dccache._applies(), reason="dataclasses._create_fn is not the 3.11/3.12 function"
)


def _make() -> type:
    @dataclass(frozen=True)
    class Row:
        name: str
        count: int = 0
        tags: tuple[str, ...] = ()
        extra: dict[str, str] = field(default_factory=dict, compare=False, metadata={"k": 1})
        flag: bool = field(default=False, kw_only=True)

        def __post_init__(self) -> None:
            object.__setattr__(self, "name", self.name.strip())

    return Row


def _behaviour(cls: type) -> dict[str, object]:
    a = cls(" x ", 2, ("t",), {"e": "1"}, flag=True)
    b = cls("x", 2, ("t",), {}, flag=True)
    frozen = False
    try:
        a.count = 3
    except dataclasses.FrozenInstanceError:
        frozen = True
    return {
        "repr": repr(a),
        "eq": a == b,
        "hash": hash(a) == hash(b),
        "frozen": frozen,
        "signature": str(inspect.signature(cls)),
        "fields": [(f.name, f.compare, dict(f.metadata)) for f in dataclasses.fields(cls)],
        "replace": repr(dataclasses.replace(a, count=5)),
        "default": repr(cls("y")),
    }


def test_a_class_made_through_the_cache_behaves_as_python_makes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert dccache.install()
    assert dataclasses._create_fn is dccache._create_fn  # type: ignore[attr-defined]
    cached_first = _behaviour(_make())  # compiled now, kept
    cached_again = _behaviour(_make())  # taken from the kept code
    monkeypatch.setattr(dataclasses, "_create_fn", dccache._ORIGINAL)
    plain = _behaviour(_make())
    assert cached_first == cached_again == plain
    assert plain["eq"] is True and plain["frozen"] is True


RUN = """
import json, sys
import assay.config, plugins.models
from assay import dccache
shard = dccache._shards[plugins.models.__file__]
print(json.dumps({"path": dccache.cache_file(plugins.models.__file__), "kept": len(shard),
                  "read": dccache._stored[plugins.models.__file__],
                  "modules": len(dccache._shards)}))
"""


def _run(tmp_path: Path, write: bool = True) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pyc")
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", RUN], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def test_the_second_start_compiles_nothing(tmp_path: Path) -> None:
    first = _run(tmp_path)
    path = Path(str(first["path"]))
    assert str(path).startswith(str(tmp_path / "pyc")) and path.name.startswith("models.")
    assert int(str(first["modules"])) > 3  # the config sections, limits, models, ...
    assert first["read"] == 0 and int(str(first["kept"])) >= 8 * 5  # models: 8 classes
    assert path.is_file()
    second = _run(tmp_path)
    assert second["read"] == second["kept"] == first["kept"]  # every method found, none added


def test_a_damaged_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = Path(str(_run(tmp_path, write=False)["path"]))
    assert not path.exists(), "PYTHONDONTWRITEBYTECODE: nothing written"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xe3not marshal data" * 10)
    damaged = _run(tmp_path)
    assert damaged["read"] == 0
    assert _run(tmp_path)["read"] == damaged["kept"]


def test_a_class_made_outside_a_module_file_is_compiled_as_always(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert dccache.install()
    scratch = types.ModuleType("scratch_dataclasses")  # no __file__: nothing to keep it beside
    monkeypatch.setitem(sys.modules, scratch.__name__, scratch)
    source = "from dataclasses import dataclass\n@dataclass(frozen=True)\nclass P:\n  x: int = 1\n"
    exec(source, scratch.__dict__)
    assert repr(scratch.P()) == "P(x=1)"
    assert all(f.endswith(".py") for f in dccache._shards)
