"""The installation, suppliers and campaign steps shared by the campaign CLI tests.

``Env`` is one configured installation in a temporary folder (its database, its .eml outbox
folder, its config file); the ``env`` fixture registers five invented suppliers, one of them
named like a spreadsheet formula.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from assay.cli import cli
from storage.store import Store
from tests.storage.campaign_support import receive, register, supplier

HOSTILE = '=HYPERLINK("http://evil.example.test/","Click for a discount")'
NAMES = ("Alpha Synthetic Metals", "Beta Synthetic Alloys", "Delta Synthetic Works", HOSTILE)


class Env:
    """One configured installation in a temporary folder."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.db = tmp_path / "assay.db"
        self.eml = tmp_path / "outbox"
        self.config = tmp_path / "assay.toml"
        self.config.write_text(
            f"""
[assay]
database = "{self.db}"
[mail]
seed_examples = false
[mail.grievances]
enabled = false
[smtp]
outbox_dir = "{self.eml}"
[alerts]
log_file = "{tmp_path / "alerts.log"}"
""",
            "utf-8",
        )

    def run(self, *args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args])
        assert result.exit_code == code, (result.output, result.exception)
        if code == 0:
            assert result.exception is None
        else:
            assert "Traceback" not in result.output
        return result

    def store(self) -> Store:
        return Store(self.db)

    def emails(self) -> list[Path]:
        return sorted(self.eml.rglob("*.eml")) if self.eml.exists() else []


@pytest.fixture
def env(tmp_path: Path) -> Env:
    e = Env(tmp_path)
    register(
        e.store(),
        supplier("Alpha Synthetic Metals", owner="buyer@corp.example.test", metals=("Tin",)),
        supplier("Beta Synthetic Alloys", owner="U0123ABCD"),
        supplier("Delta Synthetic Works"),
        supplier(HOSTILE, address="sales@hostile.example.test"),
        supplier("Emrt Only Synthetic", expected=("EMRT",)),
    )
    return e


def create_campaign(env: Env, *extra: str, code: int = 0) -> Result:
    return env.run(
        "campaign",
        "create",
        "CMRT 2026",
        "--template",
        "CMRT",
        "--deadline",
        "2026-12-01",
        *extra,
        code=code,
    )


def two_answers(env: Env) -> None:
    """Alpha sends a clean file; Beta one with errors; the others nothing."""
    create_campaign(env, "--as-of", "2026-10-01")
    env.run("campaign", "send", "CMRT 2026", "--as-of", "2026-10-01")
    store = env.store()
    ids = {s.name: s.id for s in store.suppliers()}
    receive(store, ids["Alpha Synthetic Metals"], "alpha-cmrt")
    receive(store, ids["Beta Synthetic Alloys"], "beta-cmrt-1", errors=3)
    receive(store, ids["Beta Synthetic Alloys"], "beta-cmrt-2", errors=2)
