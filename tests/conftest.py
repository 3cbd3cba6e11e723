"""Shared fixtures. Isolation first: no test sees the developer's config, tokens or home."""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from plugins.manager import get_plugin_manager
from plugins.pipeline import Screener
from plugins.reference import ReferenceData, RmapEntry, RmapList
from storage.refdata import load_embedded_cahra, load_embedded_smelters

from .builders import AS_OF, FAMILIES, TEMPLATES, build_family
from .slack_bot import Bot
from .slack_stub import SlackStub

warnings.filterwarnings("ignore", message="Conditional Formatting extension", category=UserWarning)

# Markers, so a maintainer can loop on the unit tests: ``pytest -m "not slow and not e2e"``.
# A test is ``e2e`` when it starts real parts (Dovecot, aiosmtpd, the Slack stand-in, the
# ``assay`` command in a subprocess) and ``slow`` when it builds workbooks from RMI's blank
# template workbooks. Whole modules say so with ``pytestmark``; in mixed modules, the fixtures
# below mark the tests that use them. ``conformance`` tests need RMI's real files (see
# :class:`ConformanceGate`).
E2E_FIXTURES = frozenset({"dovecot", "smtp", "stub", "bot", "refusing", "elsewhere", "env"})
SLOW_FIXTURES = frozenset(
    {"filled", "clean", "cmrt", "hostile_cmrt", "quirky", "files", "supplier_files", "forty"}
)


# The unit subset is collected without importing the modules that are wholly slow or e2e: a
# module whose ``pytestmark`` the marker expression excludes holds no test it would select.
# Only these plain expressions are understood; any other collects everything as usual.
_EXCLUDES = {
    "not slow and not e2e": {"slow", "e2e"},
    "not e2e and not slow": {"slow", "e2e"},
    "not slow": {"slow"},
    "not e2e": {"e2e"},
}
_WHOLE_MODULE = re.compile(r"^pytestmark = pytest\.mark\.(slow|e2e)$", re.M)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    excluded = _EXCLUDES.get(" ".join(str(config.getoption("markexpr") or "").split()))
    if not excluded or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    marks = _WHOLE_MODULE.findall(collection_path.read_text("utf-8"))
    return True if marks and set(marks) <= excluded else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & E2E_FIXTURES:
            item.add_marker(pytest.mark.e2e)
        if names & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)


class ConformanceGate:
    """Tests marked ``conformance`` need RMI's real templates (``ASSAY_TEMPLATES``, default
    ``../shared/templates``). Where the folder is missing they are deselected and the run says
    so in one line; under ``CI=true`` a missing folder fails the run instead (CI must check
    the synthetic templates against the real ones). Runs after ``-m``/``-k`` selection
    (``trylast``), so only tests that would have run are counted. With xdist the workers
    count and the controller prints (``workeroutput``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.deselected = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if TEMPLATES.is_dir():
            return
        gone = [item for item in items if item.get_closest_marker("conformance")]
        if not gone:
            return
        if os.environ.get("CI") == "true":
            pytest.exit(
                f"conformance: {TEMPLATES} not found, and CI=true must check the synthetic "
                "templates against RMI's real ones (set ASSAY_TEMPLATES=<folder>)",
                returncode=1,
            )
        kept = [item for item in items if not item.get_closest_marker("conformance")]
        config.hook.pytest_deselected(items=gone)
        items[:] = kept
        self.deselected = len(gone)
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["conformance_deselected"] = self.deselected

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        got = getattr(node, "workeroutput", {}).get("conformance_deselected", 0)
        self.deselected = max(self.deselected, int(got))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.deselected and not hasattr(self.config, "workeroutput"):
            terminalreporter.write_line(
                f"conformance: {self.deselected} tests against RMI's real templates not run: "
                f"{TEMPLATES} not found (set ASSAY_TEMPLATES=<folder of RMI's blank templates>)"
            )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ConformanceGate(config), "assay-conformance-gate")


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("ASSAY_CONFIG", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ASSAY_MAIL_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One clean synthetic declaration per template family, built once per session."""
    out = tmp_path_factory.mktemp("filled")
    return {name: build_family(name, out)[0] for name in FAMILIES}


@pytest.fixture(scope="session")
def embedded() -> ReferenceData:
    version, smelters = load_embedded_smelters()
    cahra_version, cahra = load_embedded_cahra()
    return ReferenceData(smelters, version, (), cahra, cahra_version)


def all_conformant(ref: ReferenceData, as_of: dt.date = AS_OF) -> ReferenceData:
    """The embedded reference with an RMAP list on which every smelter is Conformant."""
    entries = {
        cid: RmapEntry(cid, "Conformant", s.name, s.metal, s.country)
        for cid, s in ref.smelters.items()
    }
    return ReferenceData(
        ref.smelters,
        ref.smelter_list_version,
        (RmapList("test:all-conformant", as_of, entries),),
        ref.cahra,
        ref.cahra_version,
    )


@pytest.fixture(scope="session")
def conformant(embedded: ReferenceData) -> ReferenceData:
    return all_conformant(embedded)


@pytest.fixture
def screener(conformant: ReferenceData) -> Screener:
    return Screener(get_plugin_manager(), conformant, as_of=AS_OF)


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    s = SlackStub().start()
    yield s
    s.stop()


@pytest.fixture
def bot(tmp_path: Path, stub: SlackStub) -> Iterator[Bot]:
    b = Bot(tmp_path, stub)
    yield b
    b.close()
