"""Cell maps of every RMI template family we know, as data.

Addresses come from ``shared/docs/templates.md`` (read from the real workbooks). Fields
are mapped by cell address per (family, version range), never by label text, because the
labels are translated formulas whose cached text follows the UI language.

A question's ``kind`` gives it meaning to the checks (``scope``, ``remains``,
``covered-sourcing``, ``cahra-sourcing``, ``recycled``, ``response-rate``,
``all-identified``, ``all-reported``), so one set of checks serves every family.

This module is data (and the shapes of it); choosing the map for a revision is
:func:`plugins.versions.select_layout`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

YES_NO = ("Yes", "No")
YNU = ("Yes", "No", "Unknown")
RATES = ("100%", "Greater than 90%", "Greater than 75%", "Greater than 50%", "50% or less", "None")


@dataclass(frozen=True)
class Question:
    id: str  # "Q1"
    kind: str
    text: str
    allowed: tuple[str, ...]
    rows: tuple[int | None, ...]  # one per mineral slot; None where the question does not apply
    required: bool = True


@dataclass(frozen=True)
class CompanyQuestion:
    id: str  # "A"
    kind: str  # policy, policy-public, validated-sourcing, due-diligence, survey, review,
    # corrective-action, disclosure, policy-scope, supplier-due-diligence
    text: str
    allowed: tuple[str, ...]
    row: int | None = None
    per_mineral_rows: tuple[int, ...] = ()  # EMRT 2.x question C: one row per mineral slot
    mineral: str = ""  # EMRT 1.x question C is split into a cobalt and a mica row
    other_format: str = ""  # the answer that needs a description in the comment cell


# Where the smelter-list fields are, as 0-based column indexes.
STANDARD_SMELTER_COLUMNS: dict[str, int] = {
    "id_input": 0,
    "metal": 1,
    "lookup": 2,
    "name": 3,
    "country": 4,
    "id_column": 5,
    "source": 6,
    "street": 7,
    "city": 8,
    "state": 9,
    "contact_name": 10,
    "contact_email": 11,
    "next_steps": 12,
    "mine_names": 13,
    "mine_countries": 14,
    "recycled": 15,
    "comments": 16,
    "standard_name": 17,
    "country_code": 18,
}
# AMRT 1.2 has no ID-input and no look-up column.
AMRT12_SMELTER_COLUMNS: dict[str, int] = {
    "metal": 0,
    "name": 1,
    "country": 2,
    "id_column": 3,
    "source": 4,
    "street": 5,
    "city": 6,
    "state": 7,
    "contact_name": 8,
    "contact_email": 9,
    "next_steps": 10,
    "mine_names": 11,
    "mine_countries": 12,
    "recycled": 13,
    "comments": 14,
}

CMRT_STYLE_COMPANY = {
    "company_name": "D8",
    "declaration_scope": "D9",
    "scope_description": "D10",
    "company_unique_id": "D12",
    "company_unique_id_authority": "D13",
    "address": "D14",
    "contact_name": "D15",
    "contact_email": "D16",
    "contact_phone": "D17",
    "authorizer": "D18",
    "authorizer_title": "D19",
    "authorizer_email": "D20",
    "authorizer_phone": "D21",
    "effective_date": "D22",
}


def _shifted_company(first_uid_row: int) -> dict[str, str]:
    """EMRT 2.x and AMRT move everything after the scope block down."""
    names = list(CMRT_STYLE_COMPANY)[3:]
    out = {"company_name": "D8", "declaration_scope": "D9", "scope_description": "D10"}
    out.update({name: f"D{first_uid_row + i}" for i, name in enumerate(names)})
    return out


REQUIRED_COMPANY = (
    "company_name",
    "declaration_scope",
    "contact_name",
    "contact_email",
    "contact_phone",
    "authorizer",
    "authorizer_email",
    "effective_date",
)


@dataclass(frozen=True)
class Layout:
    id: str
    family: str  # CMRT, EMRT, CRT, AMRT
    title: str  # Revision!B3
    versions: tuple[str, ...]  # versions known to use exactly this map
    company_cells: dict[str, str]
    questions: tuple[Question, ...]
    company_questions: tuple[CompanyQuestion, ...] = ()
    minerals: tuple[str, ...] = ()  # fixed minerals; empty: chosen on the form
    selection_cells: tuple[str, ...] = ()  # where the chosen minerals are
    other_mineral_cells: tuple[str, ...] = ()  # AMRT 1.3 "Other [specify below]" names
    slot_label_col: int = 1  # column B holds "Cobalt(*)" in slot rows
    required_company: tuple[str, ...] = REQUIRED_COMPANY
    q1_stop: frozenset[str] = frozenset({"No"})  # Q1 answers after which nothing more is asked
    q2_stop: frozenset[str] = frozenset({"No"})
    smelter_columns: dict[str, int] = field(default_factory=lambda: dict(STANDARD_SMELTER_COLUMNS))
    smelter_first_row: int = 5
    product_number_col: int = 1  # B
    product_name_col: int = 2  # C
    product_first_row: int = 6
    has_lookup: bool = True
    has_mine_list: bool = False


def _rows(first: int, count: int) -> tuple[int | None, ...]:
    return tuple(range(first, first + count))


CMRT_Q = (
    Question(
        "Q1",
        "scope",
        "Is any 3TG intentionally added or used in the product(s) or in the production process?",
        YES_NO,
        _rows(26, 4),
    ),
    Question("Q2", "remains", "Does any 3TG remain in the product(s)?", YES_NO, _rows(32, 4)),
    Question(
        "Q3",
        "covered-sourcing",
        "Do any of the smelters in your supply chain source the 3TG from the covered countries?",
        YNU,
        _rows(38, 4),
    ),
    Question(
        "Q4",
        "cahra-sourcing",
        "Do any of the smelters in your supply chain source the 3TG from conflict-affected and high-risk areas?",
        YNU,
        _rows(44, 4),
    ),
    Question(
        "Q5",
        "recycled",
        "Does 100 percent of the 3TG originate from recycled or scrap sources?",
        YNU,
        _rows(50, 4),
    ),
    Question(
        "Q6",
        "response-rate",
        "What percentage of relevant suppliers have provided a response to your supply chain survey?",
        RATES,
        _rows(56, 4),
    ),
    Question(
        "Q7",
        "all-identified",
        "Have you identified all of the smelters supplying the 3TG to your supply chain?",
        YES_NO,
        _rows(62, 4),
    ),
    Question(
        "Q8",
        "all-reported",
        "Has all applicable smelter information received by your company been reported in this declaration?",
        YES_NO,
        _rows(68, 4),
    ),
)

CMRT_CQ = (
    CompanyQuestion(
        "A", "policy", "Have you established a responsible minerals sourcing policy?", YES_NO, 75
    ),
    CompanyQuestion(
        "B",
        "policy-public",
        "Is your responsible minerals sourcing policy publicly available on your website?",
        YES_NO,
        77,
    ),
    CompanyQuestion(
        "C",
        "validated-sourcing",
        "Do you require your direct suppliers to source the 3TG from smelters validated by an independent third-party audit program?",
        YES_NO,
        79,
    ),
    CompanyQuestion(
        "D",
        "due-diligence",
        "Have you implemented due diligence measures for responsible sourcing?",
        YES_NO,
        81,
    ),
    CompanyQuestion(
        "E",
        "survey",
        "Does your company conduct Conflict Minerals survey(s) of your relevant supplier(s)?",
        (
            "Yes, in conformance with IPC1755 (e.g., CMRT)",
            "Yes, using other format (describe)",
            "No",
        ),
        83,
        other_format="Yes, using other format (describe)",
    ),
    CompanyQuestion(
        "F",
        "review",
        "Do you review due diligence information received from your suppliers against your company's expectations?",
        YES_NO,
        85,
    ),
    CompanyQuestion(
        "G",
        "corrective-action",
        "Does your review process include corrective action management?",
        YES_NO,
        87,
    ),
    CompanyQuestion(
        "H",
        "disclosure",
        "Is your company required to file an annual conflict minerals disclosure?",
        ("Yes, with the SEC", "Yes, with the EU", "Yes, with the SEC and the EU", "No"),
        89,
    ),
)

CMRT = Layout(
    id="CMRT_6.x",
    family="CMRT",
    title="Conflict Minerals Reporting Template",
    versions=("6.01", "6.1", "6.22", "6.31", "6.4", "6.5"),
    company_cells=dict(CMRT_STYLE_COMPANY),
    questions=CMRT_Q,
    company_questions=CMRT_CQ,
    minerals=("Tantalum", "Tin", "Gold", "Tungsten"),
)

_EMRT1_SURVEY = (
    "Yes, in conformance with IPC1755 (e.g. EMRT)",
    "Yes, Using Other Format (Describe)",
    "No",
)
EMRT1 = Layout(
    id="EMRT_1.x",
    family="EMRT",
    title="Extended Mineral Reporting Template",
    versions=("1.1", "1.11", "1.2", "1.3"),
    company_cells=dict(CMRT_STYLE_COMPANY),
    minerals=("Cobalt", "Mica"),
    q1_stop=frozenset({"No", "Unknown", "Not applicable for this declaration"}),
    q2_stop=frozenset({"No", "Unknown"}),
    questions=(
        Question(
            "Q1",
            "scope",
            "Is any of the cobalt or natural mica intentionally added or used in the product(s) or in the production process?",
            (*YNU, "Not applicable for this declaration"),
            (26, 27),
        ),
        Question(
            "Q2",
            "remains",
            "Does any cobalt or natural mica remain in the product(s)?",
            YNU,
            (32, 33),
        ),
        Question(
            "Q3",
            "cahra-sourcing",
            "Do any of the smelters or processors in your supply chain source the cobalt or natural mica from conflict-affected and high-risk areas?",
            (*YNU, "DRC only", "India and/or Madagascar only"),
            (38, 39),
        ),
        Question(
            "Q4",
            "recycled",
            "Does 100 percent of the cobalt originate from recycled or scrap sources?",
            YNU,
            (44, None),
        ),
        Question(
            "Q5",
            "response-rate",
            "What percentage of relevant suppliers have provided a response to your supply chain survey?",
            RATES,
            (50, 51),
        ),
        Question(
            "Q6",
            "all-identified",
            "Have you identified all of the smelters or processors supplying the cobalt or natural mica to your supply chain?",
            YNU,
            (56, 57),
        ),
        Question(
            "Q7",
            "all-reported",
            "Has all applicable smelter or processor information received by your company been reported in this declaration?",
            YNU,
            (62, 63),
        ),
    ),
    company_questions=(
        CompanyQuestion(
            "A",
            "policy",
            "Have you established a responsible minerals sourcing policy?",
            YES_NO,
            69,
        ),
        CompanyQuestion(
            "B",
            "policy-public",
            "Is your responsible minerals sourcing policy publicly available on your website?",
            YES_NO,
            71,
        ),
        CompanyQuestion(
            "C",
            "validated-sourcing",
            "Do you require your direct suppliers to source cobalt from smelters whose due diligence practices have been validated by an independent third party audit program?",
            YES_NO,
            74,
            mineral="Cobalt",
        ),
        CompanyQuestion(
            "C",
            "validated-sourcing",
            "Do you require your direct suppliers to source natural mica from processors whose due diligence practices have been validated by an independent third party audit program?",
            ("Yes", "Yes, when more processors are validated", "No"),
            75,
            mineral="Mica",
        ),
        CompanyQuestion(
            "D",
            "due-diligence",
            "Have you implemented due diligence measures for responsible sourcing?",
            YES_NO,
            77,
        ),
        CompanyQuestion(
            "E",
            "survey",
            "Does your company conduct cobalt and/or natural mica supply chain survey(s) of your relevant supplier(s)?",
            _EMRT1_SURVEY,
            79,
            other_format="Yes, Using Other Format (Describe)",
        ),
        CompanyQuestion(
            "F",
            "review",
            "Do you review due diligence information received from your suppliers against your company's expectations?",
            YES_NO,
            81,
        ),
        CompanyQuestion(
            "G",
            "corrective-action",
            "Does your review process include corrective action management?",
            YES_NO,
            83,
        ),
    ),
)

EMRT2 = Layout(
    id="EMRT_2.x",
    family="EMRT",
    title="Extended Mineral Reporting Template",
    versions=("2.0", "2.1"),
    company_cells=_shifted_company(16),
    selection_cells=("D12", "E12", "G12", "D13", "E13", "G13"),
    q1_stop=frozenset({"No", "Unknown", "Not declaring"}),
    q2_stop=frozenset({"No", "Unknown"}),
    questions=(
        Question(
            "Q1",
            "scope",
            "Is any of the specified mineral/metal intentionally added or used in the product(s) or in the production process?",
            (*YNU, "Not declaring"),
            _rows(30, 10),
        ),
        Question(
            "Q2",
            "remains",
            "Does any of the specified mineral/metal remain in the product(s)?",
            YNU,
            _rows(42, 10),
        ),
        Question(
            "Q3",
            "cahra-sourcing",
            "Do any of the smelters or processors in your supply chain source the specified mineral/metal from conflict-affected and high-risk areas?",
            (*YNU, "India and/or Madagascar only"),
            _rows(54, 10),
        ),
        Question(
            "Q4",
            "recycled",
            "Does 100 percent of the specified mineral/metal originate from recycled or scrap sources?",
            YNU,
            _rows(66, 10),
        ),
        Question(
            "Q5",
            "response-rate",
            "What percentage of relevant suppliers have provided a response to your supply chain survey?",
            (*RATES, "Did not survey"),
            _rows(78, 10),
        ),
        Question(
            "Q6",
            "all-identified",
            "Have you identified all of the smelters or processors supplying the specified minerals/metal to your supply chain?",
            YNU,
            _rows(90, 10),
        ),
        Question(
            "Q7",
            "all-reported",
            "Has all applicable smelter or processor information received by your company been reported in this declaration?",
            YNU,
            _rows(102, 10),
        ),
    ),
    company_questions=(
        CompanyQuestion(
            "A",
            "policy",
            "Have you established a responsible minerals sourcing policy?",
            YES_NO,
            115,
        ),
        CompanyQuestion(
            "B",
            "policy-public",
            "Is your responsible minerals sourcing policy publicly available on your website?",
            YES_NO,
            117,
        ),
        CompanyQuestion(
            "C",
            "validated-sourcing",
            "Do you require your direct suppliers to source the specified minerals/metals from smelters validated by an independent third-party audit program?",
            ("Yes", "Yes, when more processors are validated", "No"),
            None,
            per_mineral_rows=tuple(range(120, 130)),
        ),
        CompanyQuestion(
            "D",
            "due-diligence",
            "Have you implemented due diligence measures for responsible sourcing?",
            YES_NO,
            131,
        ),
        CompanyQuestion(
            "E",
            "survey",
            "Does your company conduct supply chain survey(s) of your relevant supplier(s) on the specified minerals/metals?",
            _EMRT1_SURVEY,
            133,
            other_format="Yes, Using Other Format (Describe)",
        ),
        CompanyQuestion(
            "F",
            "review",
            "Do you review due diligence information received from your suppliers against your company's expectations?",
            YES_NO,
            135,
        ),
        CompanyQuestion(
            "G",
            "corrective-action",
            "Does your review process include corrective action management?",
            YES_NO,
            137,
        ),
    ),
    has_mine_list=True,
)

CRT = Layout(
    id="CRT_2.x",
    family="CRT",
    title="Cobalt Reporting Template",
    versions=("2.2",),
    company_cells=dict(CMRT_STYLE_COMPANY),
    minerals=("Cobalt",),
    q1_stop=frozenset({"No", "Unknown"}),
    questions=(
        Question(
            "Q1",
            "scope",
            "Is any of the cobalt intentionally added or used in the product(s) or in the production process?",
            YNU,
            (26,),
        ),
        Question(
            "Q2",
            "cahra-sourcing",
            "Do any of the smelters in your supply chain source the cobalt from a conflict-affected and high-risk area?",
            (*YNU, "DRC or adjoining countries only"),
            (32,),
        ),
        Question(
            "Q3",
            "recycled",
            "Does 100 percent of the cobalt originate from recycled or scrap sources?",
            YNU,
            (38,),
        ),
        Question(
            "Q4",
            "response-rate",
            "What percentage of relevant suppliers have provided a response to your supply chain survey?",
            RATES,
            (44,),
        ),
        Question(
            "Q5",
            "all-identified",
            "Have you identified all of the smelters supplying the cobalt to your supply chain?",
            YNU,
            (50,),
        ),
        Question(
            "Q6",
            "all-reported",
            "Has all applicable smelter information received by your company been reported in this declaration?",
            YNU,
            (56,),
        ),
    ),
    company_questions=(
        CompanyQuestion(
            "A",
            "policy-public",
            "Have you established a publicly available cobalt sourcing policy?",
            YES_NO,
            63,
        ),
        CompanyQuestion(
            "B",
            "policy-scope",
            "Does your policy cover all risks in the OECD Annex II Model Policy and the worst forms of child labour?",
            YES_NO,
            65,
        ),
        CompanyQuestion(
            "C",
            "due-diligence",
            "Have you implemented due diligence measures for cobalt in the declaration scope?",
            YES_NO,
            67,
        ),
        CompanyQuestion(
            "D",
            "supplier-due-diligence",
            "Do you require suppliers to exercise due diligence over the cobalt supply chain in accordance with the OECD Guidance?",
            YES_NO,
            69,
        ),
        CompanyQuestion(
            "E",
            "validated-sourcing",
            "Do you require your direct suppliers to source cobalt from smelters validated by an independent third-party audit program?",
            YES_NO,
            71,
        ),
        CompanyQuestion(
            "F",
            "supplier-due-diligence",
            "Do you require suppliers' due diligence to cover all Annex II risks and the worst forms of child labour?",
            YES_NO,
            73,
        ),
        CompanyQuestion(
            "G",
            "survey",
            "Does your company conduct cobalt supply chain survey(s) of your relevant supplier(s)?",
            ("Yes, CRT", "Yes, Using Other Format (Describe)", "No"),
            75,
            other_format="Yes, Using Other Format (Describe)",
        ),
        CompanyQuestion(
            "H",
            "review",
            "Do you review due diligence information received from your suppliers against your company's expectations?",
            YES_NO,
            77,
        ),
        CompanyQuestion(
            "I",
            "corrective-action",
            "Does your review process include corrective action management?",
            YES_NO,
            79,
        ),
    ),
)

_AMRT_Q1 = "Is any of the following minerals or metals intentionally added or used in the product(s) or in the production process?"
_AMRT_Q2 = (
    "What percentage of relevant suppliers have provided a response to your supply chain survey?"
)
_AMRT_RATES = (*RATES, "Unknown", "Did not survey")

AMRT12 = Layout(
    id="AMRT_1.2",
    family="AMRT",
    title="Additional Minerals Reporting Template",
    versions=("1.2",),
    company_cells=_shifted_company(14),
    selection_cells=("D12", "E12", "G12", "H12", "I12", "D13", "E13", "G13", "H13", "I13"),
    q1_stop=frozenset({"No", "Unknown", "Not declaring"}),
    questions=(
        Question("Q1", "scope", _AMRT_Q1, (*YNU, "Not declaring"), _rows(28, 10)),
        Question("Q2", "response-rate", _AMRT_Q2, _AMRT_RATES, _rows(40, 10), required=False),
    ),
    smelter_columns=dict(AMRT12_SMELTER_COLUMNS),
    has_lookup=False,
    has_mine_list=True,
)

AMRT13 = Layout(
    id="AMRT_1.3",
    family="AMRT",
    title="Additional Minerals Reporting Template",
    versions=("1.3",),
    company_cells=_shifted_company(17),
    selection_cells=(
        "D12",
        "E12",
        "F12",
        "G12",
        "H12",
        "I12",
        "D13",
        "E13",
        "F13",
        "G13",
        "H13",
        "I13",
    ),
    other_mineral_cells=(
        "D15",
        "E15",
        "F15",
        "G15",
        "H15",
        "I15",
        "D16",
        "E16",
        "F16",
        "G16",
        "H16",
        "I16",
    ),
    q1_stop=frozenset({"No", "Unknown", "Not declaring"}),
    questions=(
        Question("Q1", "scope", _AMRT_Q1, (*YNU, "Not declaring"), _rows(31, 10)),
        Question("Q2", "response-rate", _AMRT_Q2, _AMRT_RATES, _rows(43, 10), required=False),
    ),
    has_mine_list=True,
)

LAYOUTS: tuple[Layout, ...] = (CMRT, EMRT1, EMRT2, CRT, AMRT12, AMRT13)
TITLES: dict[str, str] = {
    "Conflict Minerals Reporting Template": "CMRT",
    "Extended Mineral Reporting Template": "EMRT",
    "Extended Minerals Reporting Template": "EMRT",
    "Cobalt Reporting Template": "CRT",
    "Additional Minerals Reporting Template": "AMRT",
}
