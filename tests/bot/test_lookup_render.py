"""The look-up renderer: pure functions of the facts a look-up gathered (no store needed)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from bot.lookup_render import country_risk, lookup_json, render_lookup, standing_words
from storage.lookup import Lookup, LookupAnswer, NearMatch, SmelterFacts, lookup_smelter

FACTS = SmelterFacts(
    cid="CID000001",
    name="Example Smelting Ltd.",
    aliases=("Example Smelting",),
    metal="Tin",
    country="RWANDA",
    rmap_status="Conformant",
    rmap_standing="conformant",
    rmap_list="2026-06-01:list.csv",
    rmap_list_date=dt.date(2026, 6, 1),
    rmap_last_audit_date=dt.date(2025, 3, 1),
    rmap_audit_cycle="1 Year",
    rmap_reaudit_due=dt.date(2026, 3, 1),
    covered_country=True,
    cahra_country=False,
    cahra_areas=(),
    suppliers=2,
    supplier_names=("Synthetic Components Ltd.",),
    score=100.0,
)


def one(facts: SmelterFacts, query: str = "CID000001") -> Lookup:
    answer = LookupAnswer(query, (facts,), (), "embedded:test")
    return Lookup(query, (facts,), (), "embedded:test", (answer,))


def test_the_standing_and_the_flags_in_words() -> None:
    assert standing_words(FACTS) == "Conformant"
    assert (
        standing_words(replace(FACTS, rmap_status=None)) == "not on the Conformant or Active list"
    )
    assert standing_words(replace(FACTS, rmap_standing="no-list")).startswith("unknown")
    assert standing_words(replace(FACTS, rmap_standing="not-covered")).startswith("not judged")
    assert country_risk(FACTS) == ["covered country"]
    assert country_risk(replace(FACTS, covered_country=False)) == []


def test_text_names_every_fact() -> None:
    text = render_lookup(one(FACTS))
    assert text.splitlines() == [
        "CID000001  Example Smelting Ltd.  (Tin, RWANDA)",
        "    also known as: Example Smelting",
        "    RMAP: Conformant [conformant] (2026-06-01:list.csv of 2026-06-01)",
        "    last audit 2025-03-01, cycle 1 Year, re-audit due 2026-03-01",
        "    country risk: covered country",
        "    listed by 2 supplier(s): Synthetic Components Ltd.",
    ]


def test_no_match_names_the_nearest_and_several_queries_are_blocks() -> None:
    near = LookupAnswer("Zzyzx", (), (NearMatch("CID000002", "Other Ltd.", 60.0),), "v")
    assert render_lookup(Lookup("Zzyzx", (), near.nearest, "v", (near,))) == (
        "No smelter found for 'Zzyzx'. Nearest: CID000002 Other Ltd.."
    )
    hit = one(FACTS).answers[0]
    both = Lookup("CID000001 Zzyzx", (FACTS,), (), "v", (hit, near))
    blocks = render_lookup(both).split("\n\n")
    assert len(blocks) == 2 and blocks[1].startswith("No smelter found for 'Zzyzx'")


def test_json_keeps_the_shape_and_the_words() -> None:
    got = json.loads(json.dumps(lookup_json(one(FACTS))))
    assert list(got) == ["query", "matches", "nearest", "reference", "answers"]
    [m] = got["matches"]
    assert m["rmap_summary"] == "Conformant" and m["country_risk"] == ["covered country"]
    assert m["rmap_list_date"] == "2026-06-01" and m["aliases"] == ["Example Smelting"]
    assert got["answers"][0]["matches"] == got["matches"]


def test_an_embedded_look_up_renders_without_a_store() -> None:
    answer = lookup_smelter(None, "cid2082")
    assert [m.cid for m in answer.matches] == ["CID002082"]
    assert "RMAP: unknown (no RMAP list loaded) [no-list]" in render_lookup(answer)
