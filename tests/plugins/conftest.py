"""Fixtures of the screening tests: a clean declaration read from a real filled template."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.manager import get_plugin_manager
from plugins.models import Declaration
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from tests.builders import AS_OF


@pytest.fixture(scope="module")
def clean(filled: dict[str, Path], conformant: ReferenceData) -> Declaration:
    return Screener(get_plugin_manager(), conformant, as_of=AS_OF).read(
        filled["CMRT-6.5"].read_bytes()
    )
