"""Truth tables of the roll-up rules (program/rollup.py), one per question kind.

Each row: the suppliers' answers for one mineral, the campaign's response category, the
consolidated list's unidentified/unreported counts, and the answer the rule must give.
The same tables are in docs/rollup-rules.md.
"""

from __future__ import annotations

import dataclasses

import pytest

from plugins.layouts import AMRT12, CMRT, CRT, EMRT1, EMRT2, LAYOUTS, Layout
from program.rollup import (
    COMPANY_KEYS,
    Derived,
    RollupError,
    RollupFacts,
    SupplierAnswers,
    derive,
)

FULL, PART, NONE = "100%", "Greater than 75%", "None"
#: A supplier in scope for the mineral (Q1 Yes, Q2 Yes) with nothing else said.
IN = {"scope": "Yes", "remains": "Yes"}
OUT = {"scope": "No"}


def supplier(i: int, mineral: str, said: dict[str, str], lists: bool = False) -> SupplierAnswers:
    return SupplierAnswers(
        f"Supplier {chr(65 + i)} Ltd",
        {(kind, mineral): value for kind, value in said.items()},
        frozenset({mineral}) if lists else frozenset(),
    )


def facts(
    layout: Layout,
    mineral: str,
    said: list[dict[str, str]],
    category: str = FULL,
    *,
    lists: tuple[int, ...] = (),
    unidentified: int = 0,
    unreported: int = 0,
    company: dict[str, str] | None = None,
    out_of_scope: frozenset[str] = frozenset(),
    minerals: tuple[str, ...] = (),
    surveyed: int | None = None,
) -> RollupFacts:
    suppliers = tuple(supplier(i, mineral, s, i in lists) for i, s in enumerate(said))
    n = len(suppliers)
    return RollupFacts(
        family=layout.family,
        minerals=minerals or layout.minerals or (mineral,),
        suppliers=suppliers,
        surveyed=n if surveyed is None else surveyed,
        responded=n,
        response_category=category,
        smelters={mineral: 3},
        unidentified={mineral: unidentified},
        unreported={mineral: unreported},
        company=company or {},
        out_of_scope=out_of_scope,
    )


def answer_of(layout: Layout, f: RollupFacts, kind: str, mineral: str) -> Derived:
    found = [d for d in derive(layout, f) if d.kind == kind and d.mineral == mineral]
    assert len(found) == 1, found
    return found[0]


# --- scope (Q1) ------------------------------------------------------------------------

SCOPE = [
    # layout, suppliers' Q1, lists smelters, response, out_of_scope, expected
    (CMRT, ["Yes"], (), PART, False, "Yes"),
    (CMRT, ["No", ""], (1,), FULL, False, "Yes"),  # listing smelters is a yes
    (CMRT, ["No", "No"], (), FULL, False, "No"),
    (CMRT, ["No", "No"], (), PART, False, "Yes"),  # no Unknown in CMRT: cannot be ruled out
    (CMRT, ["No", ""], (), FULL, False, "Yes"),
    (CMRT, ["Yes"], (0,), FULL, True, "No"),  # the config wins
    (EMRT1, ["No", "Unknown"], (), FULL, False, "No"),  # Unknown is a stop answer
    (EMRT1, ["No", "No"], (), PART, False, "Unknown"),
    (EMRT1, ["No", ""], (), FULL, False, "Unknown"),
    (EMRT2, ["Not declaring", "No"], (), FULL, False, "No"),
    (EMRT2, ["Yes", "No"], (), PART, False, "Yes"),
    (EMRT2, [], (), NONE, False, "Unknown"),
]


@pytest.mark.parametrize(("layout", "q1", "lists", "rate", "oos", "expected"), SCOPE)
def test_scope(layout, q1, lists, rate, oos, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    f = facts(
        layout,
        mineral,
        [{"scope": a} for a in q1],
        rate,
        lists=lists,
        out_of_scope=frozenset({mineral.upper()}) if oos else frozenset(),
    )
    d = answer_of(layout, f, "scope", mineral)
    assert d.answer == expected
    if oos:
        assert "out_of_scope" in d.rule
    if expected == "Yes" and ((q1 and "Yes" in q1) or lists):
        assert d.deciders, d


# --- remains (Q2) ----------------------------------------------------------------------

REMAINS = [
    # layout, suppliers' (Q1, Q2), response, expected Q2
    (CMRT, [("No", ""), ("No", "")], FULL, "No"),  # after Q1 No: No
    (CMRT, [("Yes", "Yes"), ("Yes", "No")], PART, "Yes"),
    (CMRT, [("Yes", "No"), ("No", "")], FULL, "No"),
    (CMRT, [("Yes", "No"), ("Yes", "")], FULL, "Yes"),  # no Unknown in CMRT
    (CMRT, [("Yes", "No")], PART, "Yes"),
    (EMRT1, [("Yes", "No"), ("Yes", "")], FULL, "Unknown"),
    (EMRT1, [("Yes", "Unknown")], FULL, "No"),  # Unknown is a Q2 stop answer
    (EMRT2, [("Yes", "No")], PART, "Unknown"),
    (EMRT2, [("Yes", "Yes"), ("Unknown", "")], PART, "Yes"),
]


@pytest.mark.parametrize(("layout", "said", "rate", "expected"), REMAINS)
def test_remains(layout, said, rate, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    f = facts(layout, mineral, [{"scope": a, "remains": b} for a, b in said], rate)
    assert answer_of(layout, f, "remains", mineral).answer == expected


def test_remains_no_blanks_the_rest():
    f = facts(CMRT, "Gold", [{"scope": "Yes", "remains": "No"}])
    got = {d.kind: d for d in derive(CMRT, f) if d.mineral == "Gold"}
    assert got["scope"].answer == "Yes" and got["remains"].answer == "No"
    for kind in ("covered-sourcing", "cahra-sourcing", "recycled", "response-rate"):
        assert got[kind].answer == "" and got[kind].rule.startswith("not asked: question Q2")


def test_a_supplier_listing_smelters_never_makes_remains_no():
    """Q1 No and Q2 blank, but it lists Tin smelters: Q1 is Yes, and Q2 is not "No"."""
    f = facts(CMRT, "Tin", [{"scope": "No"}], lists=(0,))
    got = {d.kind: d for d in derive(CMRT, f) if d.mineral == "Tin"}
    assert got["scope"].answer == "Yes"
    assert got["remains"].answer == "Yes" and "not all say No" in got["remains"].rule
    assert got["covered-sourcing"].answer != ""  # asked, not gated away


def test_scope_no_blanks_the_rest_but_q2_is_no():
    f = facts(CMRT, "Gold", [OUT, OUT])
    got = {d.kind: d for d in derive(CMRT, f) if d.mineral == "Gold"}
    assert (got["scope"].answer, got["remains"].answer) == ("No", "No")
    assert got["all-reported"].answer == ""
    assert "question Q1 is No" in got["all-reported"].rule


def test_emrt_scope_unknown_blanks_q2_onwards():
    f = facts(EMRT1, "Mica", [{"scope": "No"}], PART)
    got = {d.kind: d.answer for d in derive(EMRT1, f) if d.mineral == "Mica"}
    assert got["scope"] == "Unknown"
    assert got["remains"] == "" and got["response-rate"] == ""


# --- covered-sourcing / cahra-sourcing --------------------------------------------------

SOURCING = [
    # layout, kind, in-scope suppliers' answers, response, unidentified, expected
    (CMRT, "covered-sourcing", ["No", "Yes"], FULL, 0, "Yes"),
    (CMRT, "covered-sourcing", ["No", "Unknown"], FULL, 0, "Unknown"),
    (CMRT, "covered-sourcing", ["No", ""], FULL, 0, "Unknown"),  # blank is not No
    (CMRT, "covered-sourcing", ["No", "No"], PART, 0, "Unknown"),
    (CMRT, "covered-sourcing", ["No", "No"], FULL, 2, "Unknown"),
    (CMRT, "covered-sourcing", ["No", "No"], FULL, 0, "No"),
    (CMRT, "cahra-sourcing", ["Yes", "Unknown"], PART, 3, "Yes"),  # any yes wins
    (EMRT1, "cahra-sourcing", ["DRC only", "No"], FULL, 0, "DRC only"),
    (EMRT1, "cahra-sourcing", ["DRC only", "DRC only"], FULL, 0, "DRC only"),
    (EMRT1, "cahra-sourcing", ["DRC only", "India and/or Madagascar only"], FULL, 0, "Yes"),
    (EMRT1, "cahra-sourcing", ["DRC only", "Yes"], FULL, 0, "Yes"),
    (EMRT2, "cahra-sourcing", ["DRC only"], FULL, 0, "Yes"),  # not an EMRT 2.x answer
    (
        EMRT2,
        "cahra-sourcing",
        ["India and/or Madagascar only"],
        PART,
        0,
        "India and/or Madagascar only",
    ),
    (EMRT2, "cahra-sourcing", ["No"], FULL, 0, "No"),
    (
        CRT,
        "cahra-sourcing",
        ["DRC or adjoining countries only"],
        FULL,
        0,
        "DRC or adjoining countries only",
    ),
]


@pytest.mark.parametrize(("layout", "kind", "said", "rate", "unidentified", "expected"), SOURCING)
def test_sourcing(layout, kind, said, rate, unidentified, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    # a supplier out of scope saying Yes must not count
    said_all = [{**IN, kind: a} for a in said] + [{"scope": "No", kind: "Yes"}]
    f = facts(layout, mineral, said_all, rate, unidentified=unidentified)
    d = answer_of(layout, f, kind, mineral)
    assert d.answer == expected
    assert d.answer in layout.questions[[q.kind for q in layout.questions].index(kind)].allowed
    out = f.suppliers[-1].supplier
    assert out not in d.deciders


def test_sourcing_names_the_yes_suppliers():
    f = facts(CMRT, "Tin", [{**IN, "covered-sourcing": "Yes"}, {**IN, "covered-sourcing": "No"}])
    d = answer_of(CMRT, f, "covered-sourcing", "Tin")
    assert d.deciders == ("Supplier A Ltd",)
    assert "Supplier A Ltd" in d.rule and "Supplier B Ltd" not in d.rule


@pytest.mark.parametrize(
    ("kind", "covered", "cahra", "expected"),
    [
        ("covered-sourcing", ("CID004065",), (), "Yes"),  # a listed smelter in the DRC
        ("covered-sourcing", (), ("CID000001",), "No"),  # CAHRA flag: not the covered question
        ("cahra-sourcing", (), ("CID000001",), "Yes"),
        ("cahra-sourcing", ("CID004065",), (), "No"),
        ("covered-sourcing", (), (), "No"),
    ],
)
def test_sourcing_is_yes_when_the_list_shows_it(kind, covered, cahra, expected):
    """Every supplier says No, 100% answered, all identified: the consolidated list's own
    smelters in (or sourcing from) covered or CAHRA countries still make it Yes."""
    f = dataclasses.replace(
        facts(CMRT, "Tin", [{**IN, kind: "No"}, {**IN, kind: "No"}]),
        covered={"Tin": covered} if covered else {},
        cahra={"Tin": cahra} if cahra else {},
    )
    d = answer_of(CMRT, f, kind, "Tin")
    assert d.answer == expected
    if expected == "Yes":
        assert (covered or cahra)[0] in d.rule and d.deciders == ()


# --- recycled ------------------------------------------------------------------------------

RECYCLED = [
    # in-scope suppliers' answers, response, unidentified, expected
    (["Yes", "Yes"], FULL, 0, "Yes"),
    (["Yes", "Yes"], PART, 0, "Unknown"),
    (["Yes", "Yes"], FULL, 1, "Unknown"),
    (["Yes", "Unknown"], FULL, 0, "Unknown"),
    (["Yes", ""], FULL, 0, "Unknown"),
    (["Yes", "No"], FULL, 0, "No"),
    (["No", "Unknown"], FULL, 0, "Unknown"),
    (["No", "No"], FULL, 0, "No"),
]


@pytest.mark.parametrize(("said", "rate", "unidentified", "expected"), RECYCLED)
@pytest.mark.parametrize("layout", [CMRT, EMRT1, EMRT2, CRT])
def test_recycled(layout, said, rate, unidentified, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    f = facts(
        layout, mineral, [{**IN, "recycled": a} for a in said], rate, unidentified=unidentified
    )
    assert answer_of(layout, f, "recycled", mineral).answer == expected


def test_recycled_has_no_mica_row_in_emrt1():
    f = facts(EMRT1, "Mica", [{**IN, "recycled": "Yes"}])
    assert not [d for d in derive(EMRT1, f) if d.kind == "recycled" and d.mineral == "Mica"]


# --- response-rate ------------------------------------------------------------------------

RATE = [
    # layout, category, surveyed, suppliers' own answer (ignored), expected
    (CMRT, FULL, 4, "50% or less", "100%"),
    (CMRT, "Greater than 90%", 20, "100%", "Greater than 90%"),
    (CMRT, "50% or less", 9, "100%", "50% or less"),
    (EMRT1, PART, 8, "100%", PART),
    (EMRT2, "Greater than 50%", 5, "100%", "Greater than 50%"),
    (EMRT2, NONE, 0, "100%", "Did not survey"),
    (CMRT, NONE, 0, "100%", "None"),  # CMRT has no "Did not survey"
]


@pytest.mark.parametrize(("layout", "category", "surveyed", "theirs", "expected"), RATE)
def test_response_rate(layout, category, surveyed, theirs, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    said = [{**IN, "response-rate": theirs}]
    f = facts(layout, mineral, said, category, surveyed=surveyed)
    d = answer_of(layout, f, "response-rate", mineral)
    assert d.answer == expected
    assert d.deciders == ()


# --- all-identified ------------------------------------------------------------------------

IDENTIFIED = [
    # layout, in-scope suppliers' answers, response, unidentified, expected
    (CMRT, ["Yes", "Yes"], FULL, 0, "Yes"),
    (CMRT, ["Yes", "Yes"], FULL, 1, "No"),
    (CMRT, ["Yes", "Yes"], PART, 0, "No"),  # CMRT has no Unknown
    (CMRT, ["Yes", "No"], FULL, 0, "No"),
    (CMRT, ["Yes", ""], FULL, 0, "No"),
    (EMRT1, ["Yes", "Yes"], PART, 0, "Unknown"),
    (EMRT1, ["Yes", "Unknown"], FULL, 0, "Unknown"),
    (EMRT1, ["Yes", "No"], PART, 0, "No"),
    (EMRT2, ["Yes", "Yes"], FULL, 2, "No"),
    (EMRT2, ["Yes"], FULL, 0, "Yes"),
    (EMRT2, ["Yes", ""], FULL, 0, "Unknown"),
]


@pytest.mark.parametrize(("layout", "said", "rate", "unidentified", "expected"), IDENTIFIED)
def test_all_identified(layout, said, rate, unidentified, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    f = facts(
        layout,
        mineral,
        [{**IN, "all-identified": a} for a in said],
        rate,
        unidentified=unidentified,
    )
    assert answer_of(layout, f, "all-identified", mineral).answer == expected


# --- all-reported -------------------------------------------------------------------------

REPORTED = [(0, 0, "Yes"), (5, 0, "Yes"), (0, 1, "No"), (3, 2, "No")]


@pytest.mark.parametrize(("unidentified", "unreported", "expected"), REPORTED)
@pytest.mark.parametrize("layout", [CMRT, EMRT1, EMRT2, CRT])
def test_all_reported(layout, unidentified, unreported, expected):
    mineral = "Tin" if layout is CMRT else "Cobalt"
    f = facts(layout, mineral, [IN], unidentified=unidentified, unreported=unreported)
    assert answer_of(layout, f, "all-reported", mineral).answer == expected


# --- company questions ---------------------------------------------------------------------

COMPANY = [
    # layout, question, mineral, config, expected answer, expected comment
    (CMRT, "A", "", {"policy": "yes"}, "Yes", ""),
    (CMRT, "A", "", {}, "", ""),
    (
        CMRT,
        "B",
        "",
        {"policy_public": "YES", "policy_url": "https://example.test/p"},
        "Yes",
        "https://example.test/p",
    ),
    (CMRT, "E", "", {}, "Yes, in conformance with IPC1755 (e.g., CMRT)", ""),
    (CMRT, "E", "", {"survey": "no"}, "No", ""),
    (
        CMRT,
        "E",
        "",
        {"survey": "yes, using other format (describe)", "survey_description": "Own form"},
        "Yes, using other format (describe)",
        "Own form",
    ),
    (
        CMRT,
        "H",
        "",
        {"disclosure": "yes, with the sec and the eu"},
        "Yes, with the SEC and the EU",
        "",
    ),
    (
        EMRT1,
        "C",
        "Mica",
        {
            "validated_sourcing": "No",
            "validated_sourcing_mica": "Yes, when more processors are validated",
        },
        "Yes, when more processors are validated",
        "",
    ),
    (
        EMRT1,
        "C",
        "Cobalt",
        {"validated_sourcing": "No", "validated_sourcing_mica": "Yes"},
        "No",
        "",
    ),
    (EMRT1, "E", "", {}, "Yes, in conformance with IPC1755 (e.g. EMRT)", ""),
    (EMRT2, "C", "Nickel", {"validated_sourcing_nickel": "yes"}, "Yes", ""),
    (EMRT2, "C", "Cobalt", {"validated_sourcing_nickel": "yes"}, "", ""),
    (
        CRT,
        "A",
        "",
        {"policy_public": "Yes", "policy_url": "https://example.test/co"},
        "Yes",
        "https://example.test/co",
    ),
    (CRT, "B", "", {"policy_scope": "no"}, "No", ""),
    (CRT, "G", "", {}, "Yes, CRT", ""),
]


@pytest.mark.parametrize(("layout", "qid", "mineral", "config", "expected", "comment"), COMPANY)
def test_company(layout, qid, mineral, config, expected, comment):
    minerals = ("Cobalt", "Nickel") if layout is EMRT2 else ()
    f = facts(layout, mineral or "Cobalt", [IN], company=config, minerals=minerals)
    found = [d for d in derive(layout, f) if d.question == qid and d.mineral == mineral]
    assert len(found) == 1
    d = found[0]
    assert (d.answer, d.comment) == (expected, comment)
    assert d.deciders == ()
    if not expected:
        assert d.rule.startswith("not set in [company] ")


@pytest.mark.parametrize(
    ("layout", "config", "key"),
    [
        (CMRT, {"policy": "Maybe"}, "policy"),
        (CMRT, {"disclosure": "Yes"}, "disclosure"),
        (
            EMRT1,
            {"validated_sourcing": "Yes, when more processors are validated"},
            "validated_sourcing",
        ),
        (CMRT, {"survey": "Yes, using other format (describe)"}, "survey_description"),
    ],
)
def test_company_answer_not_allowed_names_the_key(layout, config, key):
    f = facts(layout, "Cobalt", [IN], company=config)
    with pytest.raises(RollupError, match=key):
        derive(layout, f)


def test_survey_unset_without_a_survey_is_blank():
    f = facts(CMRT, "Tin", [], NONE, surveyed=0)
    (d,) = [d for d in derive(CMRT, f) if d.question == "E"]
    assert d.answer == "" and d.rule == "not set in [company] survey"


def test_company_keys_cover_every_kind():
    kinds = {cq.kind.replace("-", "_") for lay in LAYOUTS for cq in lay.company_questions}
    assert kinds <= set(COMPANY_KEYS)
    assert {"policy_url", "survey_description", "validated_sourcing_mica"} <= set(COMPANY_KEYS)
    assert len(set(COMPANY_KEYS)) == len(COMPANY_KEYS)


# --- the whole form ------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.id)
def test_every_question_once_in_form_order(layout):
    minerals = layout.minerals or ("Cobalt", "Mica", "Nickel")
    said = [{"scope": "Yes", "remains": "Yes"}]
    f = RollupFacts(
        family=layout.family,
        minerals=minerals,
        suppliers=tuple(supplier(0, m, {**s}, True) for m in minerals for s in said),
        surveyed=3,
        responded=2,
        response_category="Greater than 50%",
        smelters={},
        unidentified={},
        unreported={},
        company={"policy": "Yes"},
    )
    got = derive(layout, f)
    expected = [
        (q.id, m)
        for q in layout.questions
        for i, m in enumerate(minerals)
        if i < len(q.rows) and q.rows[i] is not None
    ]
    assert [(d.question, d.mineral) for d in got[: len(expected)]] == expected
    for d in got:
        allowed = next(
            (q.allowed for q in layout.questions if q.id == d.question and d.kind == q.kind),
            None,
        ) or next(cq.allowed for cq in layout.company_questions if cq.id == d.question)
        assert d.answer == "" or d.answer in allowed, d
        assert d.rule


def test_answers_for_the_layouts_own_minerals_by_name():
    # the supplier's file spells the metal in upper case; the list counts by canonical name
    s = SupplierAnswers("Supplier A Ltd", {("scope", "GOLD"): "Yes"}, frozenset())
    f = facts(CMRT, "Gold", [], FULL)
    f = RollupFacts(**{**f.__dict__, "suppliers": (s,), "surveyed": 1, "responded": 1})
    assert answer_of(CMRT, f, "scope", "Gold").deciders == ("Supplier A Ltd",)


def test_amrt_is_best_effort():
    f = facts(AMRT12, "Aluminum", [{"scope": "Yes"}], FULL, minerals=("Aluminum",))
    got = {d.kind: d.answer for d in derive(AMRT12, f)}
    assert got == {"scope": "Yes", "response-rate": "100%"}


def test_remains_is_no_when_the_config_puts_the_mineral_out_of_scope():
    said = [{"scope": "Yes", "remains": "Yes"}]
    f = facts(CMRT, "Tin", said, PART, out_of_scope=frozenset({"Tin"}))
    d = answer_of(CMRT, f, "remains", "Tin")
    assert (d.answer, d.deciders) == ("No", ())
    assert "Q1 is No" in d.rule
