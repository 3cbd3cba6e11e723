"""Documentation is part of the feature: codes, config keys, commands and hooks stay documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from assay.cli import cli
from assay.config import DEFAULTS
from plugins import hookspecs
from plugins.manager import collect_checks, get_plugin_manager

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
FINDINGS = (ROOT / "docs" / "findings.md").read_text("utf-8")
EXAMPLE = (ROOT / "config.example.toml").read_text("utf-8")
PIPELINE_CODES = {
    "unreadable-file": "error",
    "file-too-complex": "error",
    "not-a-template": "error",
    "unsupported-template-version": "error",
    "internal-error": "warning",
}


def documented_codes() -> dict[str, str]:
    return dict(re.findall(r"^\| `([a-z-]+)` \| (error|risk|warning|info) \|", FINDINGS, re.M))


def test_every_emitted_code_is_documented_with_its_severity() -> None:
    emitted = dict(PIPELINE_CODES)
    for check in collect_checks(get_plugin_manager()).values():
        for code, sev in check.codes.items():
            assert emitted.setdefault(code, sev) == sev, f"{code} has two severities"
    docs = documented_codes()
    assert {c: docs.get(c) for c in emitted} == emitted
    assert set(docs) == set(emitted), f"documented but never emitted: {set(docs) - set(emitted)}"


def _keys(data: dict[str, object], prefix: str = "") -> list[tuple[str, str]]:
    out = []
    for key, value in data.items():
        if isinstance(value, dict) and prefix != "screening.current_versions":
            sub = f"{prefix}.{key}" if prefix else key
            if key == "current_versions":
                out.append((prefix, key))
            else:
                out.extend(_keys(value, sub))
        else:
            out.append((prefix, key))
    return out


def test_every_config_key_is_documented_and_in_the_example() -> None:
    """Each key has a row in the README's configuration table naming its section, and a line in the example."""
    rows = [line for line in README.splitlines() if line.startswith("| `[")]
    for section, key in _keys(DEFAULTS):
        if key == "current_versions":
            assert "[screening.current_versions]" in README
            continue
        mine = [r for r in rows if f"[{section}]" in r]
        assert any(re.search(rf"(\] |`){re.escape(key)}\b", r) for r in mine), (section, key)
        assert re.search(rf"^#?\s*{re.escape(key)} =", EXAMPLE, re.M), (section, key)


def _commands(group: click.Group, prefix: str = "assay") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
        else:
            out.append(path)
    return out


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(cli)
    assert "assay screen" in commands and "assay refdata import-rmap" in commands
    for command in commands:
        assert f"`{command}" in README, command


def test_every_hook_is_in_the_readme() -> None:
    hooks = [name for name in dir(hookspecs) if name.startswith("assay_")]
    assert hooks
    for hook in hooks:
        assert f"`{hook}(" in README, hook


def test_status_table_matches_the_code() -> None:
    """docs/reference-data.md lists every status word with the standing the code gives it."""
    from plugins.rmap_status import STATUS_WORDS

    text = (ROOT / "docs" / "reference-data.md").read_text("utf-8")
    table = text.split("<!-- status-table", 1)[1].split("\n\n", 1)[0]
    documented = dict(re.findall(r"^\| ([^|`]+?) \| `([a-z-]+)` \|$", table, re.M))
    in_code = {word: standing for standing, words in STATUS_WORDS.items() for word in words}
    assert documented == in_code
    for standing in ("conformant", "active", "not-conformant", "not-covered", "no-list"):
        assert f"| `{standing}` |" in text, standing


def test_campaign_docs_name_every_status_category_key_and_command() -> None:
    """docs/campaigns.md has a row for each supplier status, response category, [campaigns]
    key and campaign command the code defines."""
    from program.campaign import CATEGORIES, STATUSES

    text = (ROOT / "docs" / "campaigns.md").read_text("utf-8")
    for status in STATUSES:
        assert f"| `{status}` |" in text, status
    for category in CATEGORIES:
        assert f"| `{category}` |" in text, category
    for key in DEFAULTS["campaigns"]:
        assert f"| `{key}` |" in text, key
    for level in ("high", "medium", "low"):
        assert f"| {level} |" in text, level
    for command in _commands(cli):
        if command.startswith(("assay campaign ", "assay remediation ", "assay suppliers show")):
            assert f"| `{command}" in text, command


def test_rollup_rules_document_every_question_kind_and_company_key() -> None:
    """docs/rollup-rules.md has a section for every question kind the rules answer and names
    every [company] key they read."""
    from plugins.layouts import LAYOUTS
    from program.rollup import COMPANY_KEYS, RULES

    text = (ROOT / "docs" / "rollup-rules.md").read_text("utf-8")
    kinds = {q.kind for layout in LAYOUTS for q in layout.questions}
    assert kinds - {"scope", "remains"} <= set(RULES), kinds - set(RULES)  # those two are gates
    for kind in kinds:
        assert f"`{kind}`" in text, kind
    for key in COMPANY_KEYS:
        assert f"`{key}`" in text, key
