"""The config is read once, when a command starts: misspelt keys and wrong types are refused
there, naming the key (and the nearest valid one), never later and never silently."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from assay import settings
from assay.cli import cli
from assay.config import DEFAULTS, Config, ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

MISSPELT = [
    ("[smtp]\nhots = 'mail.example.test'\n", "unknown key [smtp] hots — did you mean host?"),
    (
        "[mail.suppliers]\npasword_env = 'X'\n",
        "unknown key [mail.suppliers] pasword_env — did you mean password_env?",
    ),
    (
        "[mail.grievances]\nenabeld = false\n",
        "unknown key [mail.grievances] enabeld — did you mean enabled?",
    ),
    ("[mail.supplier]\nkind = 'imap'\n", "unknown key [mail] supplier — did you mean suppliers?"),
    ("[smtpp]\nhost = ''\n", "unknown section [smtpp] — did you mean smtp?"),
    (
        "[screening.current_versions]\nCMTR = '6.5'\n",
        "unknown key [screening.current_versions] CMTR — did you mean CMRT?",
    ),
]

WRONG_TYPE = [
    ("[smtp]\nport = '25'\n", "[smtp] port must be a whole number, not a string"),
    ("[mail]\nworkers = 1.5\n", "[mail] workers must be a whole number, not a decimal number"),
    ("[mail]\nreturn_workbook = 'yes'\n", "[mail] return_workbook must be true or false"),
    ("[mail.suppliers]\nport = true\n", "[mail.suppliers] port must be a whole number"),
    ("[slack]\nofficers = 'U1'\n", "[slack] officers must be a list of strings"),
    ("[slack]\nofficers = [1]\n", "[slack] officers must be a list of strings"),
    ("[screening]\nas_of = '30/06/2026'\n", "[screening] as_of = '30/06/2026' is not a YYYY-MM-DD"),
    ("[screening.current_versions]\nCMRT = 6.5\n", "[screening.current_versions] CMRT must be"),
    ("[smtp]\nhost = { name = 'x' }\n", "[smtp] host must be a string, not a table"),
    ("[mail]\nsuppliers = 'x'\n", "[mail.suppliers] must be a table"),
    ("[plugins]\ncompany = 12\n", "[plugins] company must be a table"),
    ("[mail.suppliers]\nsecurity = 'tls'\n", "[mail.suppliers] security must be one of ssl"),
    (
        "[slack]\nmode = 'sockets'\n",
        "[slack] mode must be one of http, socket — did you mean socket?",
    ),
    ("[assay]\nlog_level = 'verbose'\n", "[assay] log_level must be one of DEBUG"),
    (
        "[assay]\ntime_zone = 'Europe/Berln'\n",
        "[assay] time_zone 'Europe/Berln' is not an IANA time zone name — did you mean Europe/Berlin?",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "assay.toml"
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), MISSPELT + WRONG_TYPE)
def test_load_config_refuses_with_the_key_named(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"config file {path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), MISSPELT[:2] + WRONG_TYPE[:1])
def test_the_command_exits_1_with_the_message(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    result = CliRunner().invoke(cli, ["--config", str(path), "checks"])
    assert result.exit_code == 1
    assert f"Error: config file {path}: {message}" in result.output
    assert "Traceback" not in result.output and result.exception is not None


def test_a_secret_in_the_wrong_place_is_not_echoed(tmp_path: Path) -> None:
    for text in ("[smtp]\npassword = 'hunter2-secret'\n", "[smtp]\nport = 'hunter2-secret'\n"):
        with pytest.raises(ConfigError) as caught:
            load_config(_write(tmp_path, text))
        assert "hunter2" not in str(caught.value)
        assert "[smtp]" in str(caught.value)


def test_the_example_holds_the_embedded_defaults() -> None:
    """config.example.toml documents the defaults: read, it equals them (paths aside)."""
    example = load_config(ROOT / "config.example.toml")
    assert example.path == ROOT / "config.example.toml"
    base = ROOT.resolve()
    assert example.assay.database == str(base / "var" / "assay.db")
    assert example.mail.suppliers.path == str(base / "var" / "mail" / "suppliers")
    unpathed = parse_config({}, None)
    for name in ("screening", "limits", "refdata", "plugins", "slack"):
        assert getattr(example, name) == getattr(unpathed, name), name
    assert dataclasses.replace(example.smtp, outbox_dir="") == dataclasses.replace(
        unpathed.smtp, outbox_dir=""
    )


def test_values_are_typed_and_paths_relative_to_the_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "[assay]\ndatabase = 'data/a.db'\ntime_zone = 'Europe/Berlin'\n"
        "[screening]\nas_of = 2026-06-30\ndisabled_checks = ['template']\n"
        "[screening.current_versions]\nCMRT = '6.6'\n"
        "[limits]\nmax_file_mb = 1.5\n"
        "[mail.grievances]\nenabled = false\npath = '/srv/grievances'\n"
        "[plugins.company]\nmax_age_months = 6\nanything = ['the plugin', 'decides']\n",
    )
    config = load_config(path)
    assert config.database == tmp_path / "data" / "a.db"
    assert config.mail.grievances.path == "/srv/grievances" and not config.mail.grievances.enabled
    assert config.mail.suppliers.path == str(tmp_path / "var" / "mail" / "suppliers")
    assert config.screening.as_of == dt.date(2026, 6, 30)
    assert config.screening.disabled_checks == ("template",)
    assert config.screening.current_versions == {
        "CMRT": "6.6",
        "EMRT": "2.1",
        "CRT": "2.2",
        "AMRT": "1.3",
    }
    assert config.limits.to_limits().max_file_bytes == int(1.5 * 1024 * 1024)
    assert config.plugins["company"] == {"max_age_months": 6, "anything": ["the plugin", "decides"]}
    assert config.plugins["smelter-reference"] == {"name_cutoff": 88}
    assert str(config.clock().now().tzinfo) == "Europe/Berlin"


def test_no_file_means_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSAY_CONFIG", raising=False)
    assert load_config() == Config()
    assert DEFAULTS["mail"]["grievances"]["enabled"] is True
    assert DEFAULTS["screening"]["current_versions"]["CMRT"] == "6.5"


def test_settings_read_secrets_from_the_named_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config({"smtp": {"password_env": "TEST_SMTP_PW"}, "slack": {"channel": "C1"}})
    monkeypatch.setenv("TEST_SMTP_PW", "s3cret")
    assert settings.smtp_settings(config).password == "s3cret"
    assert settings.slack_settings(config) is None  # no bot token: no Slack
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    slack = settings.slack_settings(config)
    assert slack is not None and slack.channel == "C1" and slack.bot_token == "xoxb-test"
    assert settings.mailbox_settings(config, "grievances").delete_processed is True
    assert settings.mailbox_settings(config, "suppliers").delete_processed is False
    assert "s3cret" not in repr(config)
