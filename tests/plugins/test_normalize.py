"""Normalisation of what real filled files contain (pure functions, table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest

from plugins.countries import countries_in_text, country_code
from plugins.models import SmelterRow
from plugins.normalize import (
    canonical_choice,
    clean_answer,
    clean_cid,
    clean_text,
    is_cid,
    is_placeholder,
    is_valid_email,
    name_key,
    parse_date,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example Corp\t\t\t\t\t\t", "Example Corp"),
        ("\u3000Example\u3000Corp\u3000", "Example Corp"),
        ("  two   spaces ", "two spaces"),
        (0, ""),
        (0.0, ""),
        ("0", ""),
        (" 0 ", ""),
        (None, ""),
        (12345.0, "12345"),
        (3.5, "3.5"),
    ],
)
def test_clean_text(raw: object, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (1, "100%"),
        (1.0, "100%"),
        ("1", "100%"),
        ("100%", "100%"),
        ("Greater than 90%", "Greater than 90%"),
    ],
)
def test_hundred_percent_stored_as_one(raw: object, expected: str) -> None:
    assert clean_answer(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (dt.datetime(2024, 5, 2, 0, 0), dt.date(2024, 5, 2)),
        (dt.date(2024, 5, 2), dt.date(2024, 5, 2)),
        ("02-May-2024", dt.date(2024, 5, 2)),
        ("02-may-2024", dt.date(2024, 5, 2)),
        ("2024-05-02", dt.date(2024, 5, 2)),
        ("2024-05-02T00:00:00", dt.date(2024, 5, 2)),
        (40319.0, dt.date(2010, 5, 21)),  # a legacy serial
        ("45414", dt.date(2024, 5, 2)),
        ("sometime in May", None),
        ("", None),
        (None, None),
        (-5, None),
    ],
)
def test_parse_date(raw: object, expected: dt.date | None) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("cid 002082", True),
        ("CID002082", True),
        ("CID12", False),
        ("002082", False),
        ("CID00208２", False),
    ],
)
def test_cids(raw: str, ok: bool) -> None:
    assert is_cid(clean_cid(raw)) is ok


@pytest.mark.parametrize(
    "lookup",
    ["Smelter not yet identified", "SMELTER NOT YET IDENTIFIED", "smelter Not Yet Identified"],
)
def test_sentinels_in_any_case(lookup: str) -> None:
    assert SmelterRow(row=5, lookup=lookup).sentinel == "not yet identified"
    assert SmelterRow(row=5, lookup="Smelter Not Listed").sentinel == "not listed"


def test_answers_in_any_case_map_to_the_allowed_spelling() -> None:
    assert canonical_choice("yes", ("Yes", "No")) == "Yes"
    assert canonical_choice("greater than  90%", ("Greater than 90%",)) == "Greater than 90%"
    assert canonical_choice("Perhaps", ("Yes", "No")) == "Perhaps"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a.b@example.com", True),
        ("a.b@example,com", False),
        ("a@b", False),
        ("@example.com", False),
        ("a b@example.com", False),
    ],
)
def test_email_syntax(text: str, ok: bool) -> None:
    assert is_valid_email(text) is ok


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("same", True),
        ("Same as above", True),
        ("N/A", True),
        ("-", True),
        ("TBD", True),
        ("Alex Example", False),
    ],
)
def test_placeholders(text: str, placeholder: bool) -> None:
    assert is_placeholder(text) is placeholder


def test_name_key_ignores_case_punctuation_and_suffixes() -> None:
    assert (
        name_key("Xiamen Tungsten Co., Ltd.")
        == name_key("XIAMEN TUNGSTEN CO LTD")
        == "xiamen tungsten"
    )


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Australia, Brazil, Rwanda", ["AU", "BR", "RW"]),
        ("CONGO, DEMOCRATIC REPUBLIC OF THE", ["CD"]),
        ("DRC; Tanzania", ["CD", "TZ"]),
        ("recycled", []),
        ("", []),
    ],
)
def test_countries_in_free_text(text: str, codes: list[str]) -> None:
    assert countries_in_text(text) == codes


def test_country_names_from_the_template_list() -> None:
    assert (
        country_code("CONGO") == "CG"
        and country_code("TANZANIA, UNITED REPUBLIC OF") == "TZ"
        and country_code("Atlantis") == ""
    )
