"""``[dashboard]``: its defaults, its checks at load time, its paths and the digest's link."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.config import Config, ConfigError, load_config, parse_config
from assay.sections import DashboardSection

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assay.toml"
    path.write_text(text, "utf-8")
    return path


def test_defaults() -> None:
    d = Config().dashboard
    assert d == DashboardSection()
    assert (d.database, d.host, d.port, d.user) == (
        "var/dashboard.db",
        "127.0.0.1",
        8001,
        "compliance",
    )
    assert d.password_hash_env == "ASSAY_DASHBOARD_PASSWORD_HASH"
    assert (d.response_target, d.refresh, d.digest, d.digest_at) == (0.9, True, True, "08:00")
    assert d.link == "http://127.0.0.1:8001/-/dashboards/assay"


def test_the_example_holds_the_defaults() -> None:
    example = load_config(ROOT / "config.example.toml").dashboard
    assert example.database == str(ROOT.resolve() / "var" / "dashboard.db")
    assert example == DashboardSection(database=example.database)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("digest_at = 'eight'", "[dashboard] digest_at 'eight' is not a time (HH:MM)"),
        ("digest_at = '25:00'", "[dashboard] digest_at '25:00' is not a time (HH:MM)"),
        ("digest_at = 8", "[dashboard] digest_at must be a string, not a whole number"),
        ("response_target = 0", "[dashboard] response_target must be more than 0 and at most 1"),
        ("response_target = 90", "[dashboard] response_target must be more than 0 and at most 1"),
        ("response_target = -0.5", "[dashboard] response_target must be more than 0"),
        ("response_target = nan", "[dashboard] response_target must be more than 0"),
        ("response_target = '90%'", "[dashboard] response_target must be a number, not a string"),
        ("port = 0", "[dashboard] port must be from 1 to 65535"),
        ("port = 70000", "[dashboard] port must be from 1 to 65535"),
        ("refresh = 'yes'", "[dashboard] refresh must be true or false"),
        ("digst = true", "unknown key [dashboard] digst — did you mean digest?"),
        ("user = ''", "[dashboard] user must be 1-64 letters, digits, dots or hyphens"),
        ("user = 'x_password_hash'", "[dashboard] user must be 1-64 letters"),
    ],
)
def test_bad_values_are_refused_at_load(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, f"[dashboard]\n{text}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"config file {path}: ")
    assert message in str(caught.value)


def test_accepted_values(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[dashboard]\nresponse_target = 1\ndigest_at = '17:30'\nport = 65535\n"
        "digest = false\nrefresh = false\nhost = '::1'\n",
    )
    d = load_config(path).dashboard
    assert (d.response_target, d.digest_at, d.port, d.digest, d.refresh) == (
        1.0,
        "17:30",
        65535,
        False,
        False,
    )
    assert d.link == "http://[::1]:65535/-/dashboards/assay"  # an IPv6 host in brackets


def test_the_database_resolves_like_the_assay_database(tmp_path: Path) -> None:
    config = load_config(
        _write(tmp_path, "[assay]\ndatabase = 'data/a.db'\n[dashboard]\ndatabase = 'data/d.db'\n")
    )
    assert config.database == tmp_path / "data" / "a.db"
    assert config.dashboard.path == tmp_path / "data" / "d.db"
    # Left at its default, it is relative to the file too, not to the working directory.
    config = load_config(_write(tmp_path, "[assay]\nlog_level = 'INFO'\n"))
    assert config.dashboard.path == tmp_path / "var" / "dashboard.db"
    config = load_config(_write(tmp_path, "[dashboard]\ndatabase = '/srv/assay/board.db'\n"))
    assert config.dashboard.path == Path("/srv/assay/board.db")
    # Without a file: relative to the working directory, as [assay] database.
    assert parse_config({}).dashboard.path == Path("var/dashboard.db")
    home = parse_config({"dashboard": {"database": "~/board.db"}}).dashboard.path
    assert home == Path.home() / "board.db"


def test_the_link_is_the_configured_url() -> None:
    d = parse_config({"dashboard": {"url": "https://board.example.test/-/dashboards/assay"}})
    assert d.dashboard.link == "https://board.example.test/-/dashboards/assay"
