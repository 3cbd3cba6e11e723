"""Reference lists in every shape people hold them, written from code.

Everything here is synthetic: company names ("Example Metals Co."), smelter ids in a range
no real list uses as these names, no person's name. The tables are rows; tests/listwriters.py
writes them as CSV, XLSX, OpenDocument or Excel 2003 XML.
"""

from __future__ import annotations

import datetime as dt

from tests.listwriters import Rows

# -- RMAP lists ------------------------------------------------------------------------------

FACILITIES_HEADER = [
    "Metal",
    "Smelter ID",
    "Standard Smelter Name",
    "Country",
    "RMAP Audit Status",
    "Last Audit Date",
    "Audit Cycle",
    "Re-audit Due",
]


def facilities_export(status_header: str = "RMAP Audit Status") -> Rows:
    """RMI's facilities export: a dated title above the header; status, audit dates, cycle."""
    header = [status_header if h == "RMAP Audit Status" else h for h in FACILITIES_HEADER]
    return [
        ["Responsible Minerals Initiative – RMAP Facilities List as of May 1, 2025"],
        [],
        header,
        [
            "Gold",
            "CID000101",
            "Example Metals Co.",
            "JAPAN",
            "Conformant",
            dt.date(2024, 11, 19),
            "1 Year",
            dt.date(2025, 11, 19),
        ],
        [
            "Tin",
            "CID000102",
            "Example Smelting Ltd.",
            "BRAZIL",
            "Active",
            None,
            None,
            None,
        ],
        [
            "TANTALUM",
            "CID000103",
            "Sample Refining AG",
            "GERMANY",
            "Conformant",
            dt.date(2023, 3, 1),
            "3 Years",
            dt.date(2026, 3, 1),
        ],
        [
            "Tungsten",
            "CID000104",
            "Illustrative Tungsten Works",
            "CHINA",
            "Non-Conformant",
            dt.date(2022, 6, 30),
            "1 Year",
            dt.date(2023, 6, 30),
        ],
        [None] * 8,
    ]


#: RMI's seven status words as a 2025 filing's table prints them (some with en dashes).
SEVEN_WORDS = (
    "Conformant",
    "Active",
    "Non-Conformant",
    "Outreach Required",
    "RMI Due Diligence Review – Unable to Proceed",
    "Communication Suspended – Not Interested",
    "In Communication",
)
SEVEN_STANDINGS = (
    "conformant",
    "active",
    "not-conformant",
    "not-conformant",
    "not-conformant",
    "not-conformant",
    "not-conformant",
)


def filing_table() -> Rows:
    """A 10-K/SD style table: 'Smelter Identification' ids, every status word RMI uses."""
    rows: Rows = [
        ["Annex: smelters and refiners identified in the supply chain"],
        ["Metal", "Smelter Name", "Smelter Country", "Smelter Identification", "RMAP Status"],
    ]
    for i, word in enumerate(SEVEN_WORDS):
        rows.append(["Gold", f"Example Refinery {i + 1} Co.", "CANADA", f"CID00020{i + 1}", word])
    return rows


def type_table(status_words: bool) -> Rows:
    """A 'Type' column holding status words, or holding Smelter/Refiner (not a status)."""
    values = (
        ("Conformant", "Active", "Conformant")
        if status_words
        else ("Smelter", "Refiner", "Smelter")
    )
    return [
        ["Smelter ID", "Smelter Name", "Type"],
        *[
            [f"CID00030{i + 1}", f"Example Works {i + 1} Co.", value]
            for i, value in enumerate(values)
        ],
    ]


def mark_table() -> Rows:
    """Columns headed by status words, rows marked in them (or in neither)."""
    return [
        ["Smelter ID", "Smelter Name", "Metal", "RMAP Conformant", "Active"],
        ["CID000401", "Example Gold Co.", "Gold", "✓", ""],
        ["CID000402", "Example Tin Co.", "Tin", "", "x"],
        ["CID000403", "Example Tantalum Co.", "Tantalum", "Yes", None],
        ["CID000404", "Example Tungsten Co.", "Tungsten", "", ""],
        ["CID000405", "Example Cobalt Co.", "Cobalt", "*", "No"],
    ]


def two_sheet_workbook() -> dict[str, Rows]:
    """RMI's two-tab download: a 'Conformant' and an 'Active List' sheet, no status column;
    one CID on both; a cover sheet without a header."""
    return {
        "Read Me": [
            ["Example list, downloaded for testing"],
            ["Conformant and Active smelters as of 2025-04-15"],
        ],
        "Conformant": [
            ["Conformant smelters as of April 15, 2025"],
            ["Metal", "Smelter ID", "Smelter Name", "Country"],
            ["Gold", "CID000501", "Example Conformant Co.", "JAPAN"],
            ["Tin", "CID000502", "Example Both Lists Co.", "PERU"],
        ],
        "Active List": [
            ["Metal", "Smelter ID", "Smelter Name", "Country"],
            ["Tin", "CID000502", "Example Both Lists Co.", "PERU"],
            ["Tungsten", "CID000503", "Example Active Co.", "VIETNAM"],
        ],
    }


def date_table() -> Rows:
    """Dates as text (US month-first, day-first when it must be, d-Mon-yyyy), serials, ISO."""
    return [
        ["Smelter ID", "Status", "Last Audit Date", "Re-audit Due Date"],
        ["CID000601", "Conformant", "11/19/2020", "19-Nov-2021"],
        ["CID000602", "Conformant", "19/11/2020", "Nov 19, 2021"],
        ["CID000603", "Conformant", 44154, 44519.0],
        ["CID000604", "Conformant", "2020-11-19T00:00:00", "19 Nov 2021"],
        ["CID000605", "Active", "soon", "N/A"],
        ["CID000606", "Conformant", "13/13/2020", ""],
    ]


def repair_table() -> Rows:
    """Ids as people paste them from web pages and PDFs."""
    return [
        ["Smelter ID", "Smelter Name", "Status"],
        ["\u00a0CID000701", "Example No-Break Co.", "Conformant"],
        ["\uffa0CID002082", "Example Halfwidth Co.", "Conformant"],
        ["CID 000703", "Example Spaced Co.", "Active"],
        ["cid2084", "Example Lower Co.", "Active"],
        ["ID002085", "Example Missing Letter Co.", "Conformant"],
        ["", "Example No Id Co.", "Conformant"],
        ["CID000706", "Example No Status Co.", ""],
    ]


def unknown_words_table() -> Rows:
    return [
        ["Smelter ID", "Assessment Status"],
        ["CID000801", "Conformant"],
        ["CID000802", "Progressing"],
        ["CID000803", "Progressing"],
        ["CID000804", "Pending Review"],
    ]


# -- smelter reference lists -----------------------------------------------------------------

REFERENCE_HEADER = [
    "METAL",
    "COUNTRY",
    "STANDARD SMELTER NAME",
    "KEY TERM 1",
    "KEY TERM 2",
    "KEY TERM 3",
    "KEY TERM 4",
    "V3 Smelter ID",
]


def smelter_reference_export() -> Rows:
    """RMI's Smelter Reference List export, with a dated title."""
    return [
        ["Smelter Reference List – exported 2025-06-02"],
        REFERENCE_HEADER,
        [
            "GOLD",
            "Switzerland",
            "Example Métaux SA",
            "Example Métaux",
            "Exemple M?taux",
            "",
            "",
            "CID000901",
        ],
        ["TIN", "Bolivia", "Example Tin Smelter", "Example Tin", "ETS", None, None, "CID000902"],
        ["Tungsten", "China", "Example Tungsten Co., Ltd.", "Example W", "", "", "", "CID 000903"],
        ["", "", "Smelter not listed", "", "", "", "", ""],
    ]


# -- CAHRA -------------------------------------------------------------------------------------


def cahra_sheet() -> Rows:
    """The EU's indicative CAHRA list as cahraslist.net distributes it (structure only)."""
    return [
        ["Indicative, non-exhaustive list of conflict-affected and high-risk areas"],
        ["Last update: 31 March 2025"],
        [],
        ["Country", "Sub-national area", "Classification"],
        ["Democratic Republic of the Congo", "North Kivu", "Conflict-affected"],
        ["Democratic Republic of the Congo", "South Kivu; Ituri", "Conflict-affected"],
        ["Myanmar/Burma", "Shan State", "Conflict-affected and high-risk"],
        ["Colombia", "", "High-risk"],
        ["Côte d'Ivoire", "Example Region", "High-risk"],
        ["", "Another Example Region", "High-risk"],  # the country cell merged from above
    ]
