"""``[screening.current_versions]`` is the one source of "the current template": the outdated
check, the readers' messages and the no-template reply all name the configured revisions."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from assay import settings
from assay.app import build_screener
from assay.config import parse_config
from bot.email_render import render_no_template
from bot.reply_view import ReplyStyle
from plugins.builtin.readers import legacy
from plugins.workbook import FileProblem, open_workbook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "northwind-cmrt-6.5.xlsx"
VERSIONS = {"CMRT": "7.0", "EMRT": "3.0"}
CONFIG = parse_config({"screening": {"current_versions": VERSIONS, "as_of": "2026-06-30"}})


def _plain_workbook() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Not a reporting template"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_screener_measures_and_names_the_configured_versions() -> None:
    screener = build_screener(CONFIG, None)
    assert screener.current_versions["CMRT"] == "7.0" and screener.current_versions["CRT"] == "2.2"
    codes = {f.code for f in screener.screen_bytes(EXAMPLE.read_bytes()).findings}
    assert "outdated-template" in codes  # 6.5 is no longer current
    [finding] = screener.screen_bytes(_plain_workbook()).findings
    assert finding.code == "not-a-template"
    assert "CMRT (Revision 7.0)" in finding.message and "EMRT (Revision 3.0)" in finding.message
    assert "6.5" not in finding.message


def test_the_legacy_reader_names_the_versions_it_is_given() -> None:
    opened = open_workbook(_plain_workbook())
    with pytest.raises(FileProblem) as caught:
        legacy.assay_read_template(opened.workbook, "xls", VERSIONS)
    assert "CMRT Revision 7.0" in caught.value.message
    assert "EMRT Revision 3.0" in caught.value.message


def test_the_no_template_reply_names_the_configured_versions() -> None:
    smtp = settings.smtp_settings(CONFIG)
    assert smtp.current_versions["EMRT"] == "3.0"
    text, html = render_no_template([], ReplyStyle(current_versions=smtp.current_versions))
    assert "the current CMRT (Revision 7.0)" in text and "the EMRT (Revision 3.0)" in text
    assert "Revision 7.0" in html
    default, _ = render_no_template([])
    assert "CMRT (Revision 6.5)" in default and "EMRT (Revision 2.1)" in default
