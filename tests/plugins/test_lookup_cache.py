"""The Smelter Look-up cache: safe keys, a bounded memory, the store, and no change in results.

The hostile files here try to poison the cache two ways: a Look-up sheet with the honest
sheet's CRC-32 and size (forged by flipping letter case) over an altered row, and the honest
sheet's very bytes over an altered shared-strings part. An honest file screened after either
still resolves its CIDs to the template's own rows.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import threading
import zipfile
import zlib
from pathlib import Path

import pytest

from plugins.lookup_cache import LookupCache, LookupRow, LookupTable, lookup_key
from plugins.manager import get_plugin_manager
from plugins.parts import sheet_parts
from plugins.pipeline import Screener
from plugins.reference import ReferenceData
from plugins.workbook import Limits
from storage.lookup_store import StoredLookups
from storage.store import Store
from tests.builders import AS_OF, FAMILIES

ROW = LookupRow("Tin", "Alpha Tin", "Alpha Tin Smelter", "BOLIVIA", "CID000001", "RMI")


def table(n: int = 3) -> LookupTable:
    return LookupTable(ROW._replace(alias=f"Alias {i}", cid=f"CID{i:06d}") for i in range(n))


def canonical(result: object) -> str:
    return json.dumps(dataclasses.asdict(result), default=str, sort_keys=True)  # type: ignore[call-overload]


# -- the table and its key ---------------------------------------------------------------


def test_table_round_trips_and_first_row_wins() -> None:
    t = LookupTable([ROW, ROW._replace(name="Second", country="PERU")])
    back = LookupTable.from_json(t.to_json())
    assert back.rows == t.rows
    assert back.by_cid["CID000001"].name == "Alpha Tin Smelter"
    assert back.by_alias[("tin", "alpha tin")].country == "BOLIVIA"


@pytest.mark.parametrize(
    "raw",
    [{"a": 1}, [["a", "b"]], [[1, 2, 3, 4, 5, 6]], [["x" * 3000, "", "", "", "", ""]], "[]"],
)
def test_table_refuses_a_wrong_shape(raw: object) -> None:
    with pytest.raises(ValueError):
        LookupTable.from_plain(raw)


def test_from_cells_says_when_a_cell_was_not_text() -> None:
    text = [["Tin", "Alpha", "Alpha", "PERU", "CID000001", "RMI"]]
    _, text_only = LookupTable.from_cells(text)
    assert text_only
    t, text_only = LookupTable.from_cells([["Tin", "Alpha", "Alpha", "PERU", 12.0, "RMI"]])
    assert not text_only and len(t.rows) == 1


def test_key_is_a_digest_of_the_bytes_and_the_row_limit() -> None:
    xml = b'<worksheet><c r="A5" t="inlineStr"><is><t>Tin</t></is></c></worksheet>'
    key = lookup_key(xml, 10_000)
    assert key is not None and len(key) == 64
    assert key == lookup_key(xml, 10_000)
    assert key != lookup_key(xml, 500)
    assert key != lookup_key(xml.replace(b"Tin", b"Tio"), 10_000)


@pytest.mark.parametrize(
    "cell",
    [b'<c t="s"><v>3</v></c>', b"<c t='s'><v>3</v></c>", b'<c t="&#115;"><v>3</v></c>'],
)
def test_a_sheet_that_may_use_shared_strings_has_no_key(cell: bytes) -> None:
    assert lookup_key(b"<worksheet>" + cell + b"</worksheet>", 10_000) is None


def test_a_utf16_sheet_has_no_key() -> None:
    assert lookup_key('<worksheet t="s"/>'.encode("utf-16"), 10_000) is None


# -- the memory and the store --------------------------------------------------------------


def test_memory_is_a_bounded_lru() -> None:
    cache = LookupCache(max_entries=2)
    cache.put("a", table(1))
    cache.put("b", table(2))
    assert cache.get("a") is not None  # "a" is now the most recent
    cache.put("c", table(3))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    assert (cache.hits, cache.misses) == (3 - 1, 1)


def test_memory_is_thread_safe() -> None:
    cache = LookupCache(max_entries=8)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(300):
                cache.put(f"{n}-{i % 20}", table(1))
                cache.get(f"{(n + 1) % 4}-{i % 20}")
        except BaseException as exc:  # pragma: no cover - what the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) == 8


def test_store_keeps_the_most_recent_and_warms_a_new_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    stored = StoredLookups(store.db, keep=3)
    for i in range(5):
        LookupCache(store=stored).put(f"k{i}", table(i + 1))
    assert len(stored) == 3 and stored.get("k0") is None
    got = stored.get("k4")
    assert got is not None and len(got.rows) == 5
    # A new process's cache: the store's entries are in memory before any fork.
    fresh = LookupCache(store=StoredLookups(Store(tmp_path / "a.db").db))
    fresh.warm()
    assert len(fresh) == 3
    assert all(isinstance(v, str) for v in fresh._memory.values())  # parsed on first use
    fresh.promote("k3")  # a child hit k3: the parent parses it once for the next children
    assert isinstance(fresh._memory["k3"], LookupTable) and fresh.hits == 0
    fresh.store = None  # what a forked child sees: memory only
    warmed = fresh.get("k2")
    assert warmed is not None and len(warmed.rows) == 3


def test_a_damaged_stored_entry_is_a_miss(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    store.db.execute(
        "insert into lookup_cache (key, table_json, created_at) values ('k', '[[1]]', 'x')"
    )
    cache = LookupCache(store=StoredLookups(store.db))
    cache.warm()
    assert cache.get("k") is None


def test_store_is_not_used_from_another_thread(tmp_path: Path) -> None:
    stored = StoredLookups(Store(tmp_path / "a.db").db)
    seen: list[object] = []
    worker = threading.Thread(
        target=lambda: (stored.put("k", table()), seen.append(stored.get("k")))
    )
    worker.start()
    worker.join()
    assert seen == [None] and len(stored) == 0


# -- screening: the cache never changes a result ------------------------------------------


def screener(ref: ReferenceData, cache: LookupCache | None, isolate: bool = True) -> Screener:
    return Screener(
        get_plugin_manager(),
        ref,
        as_of=AS_OF,
        lookup_cache=cache,
        limits=Limits(isolate=isolate),
    )


def _screen_hostile(
    conformant: ReferenceData, hostile: bytes, cid: str, country: str
) -> tuple[LookupCache, Screener]:
    """A cached screener after screening ``hostile``, whose look-up row for ``cid`` reads a
    forged country (``country`` overwritten with Zs): the file itself gets its own values."""
    cache = LookupCache()
    s = screener(conformant, cache)
    poisoned = s.screen_bytes(hostile)
    assert poisoned.declaration is not None
    assert {r.country for r in poisoned.declaration.smelters if r.smelter_id == cid} == {
        "Z" * len(country)
    }
    return cache, s


def test_warm_results_equal_cold_ones(filled: dict[str, Path], conformant: ReferenceData) -> None:
    cold = screener(conformant, None)
    cache = LookupCache()
    warm = screener(conformant, cache)
    names = sorted(FAMILIES)
    first = {n: canonical(warm.screen_bytes(filled[n].read_bytes())) for n in names}
    misses = cache.misses
    assert misses and len(cache) == misses  # each family's table was learned from its child
    for n in names:
        data = filled[n].read_bytes()
        expected = canonical(cold.screen_bytes(data))
        assert first[n] == expected, n
        assert canonical(warm.screen_bytes(data)) == expected, n
    assert cache.misses == misses and cache.hits >= misses  # the second pass hit every time


def test_in_process_reading_uses_the_cache_too(
    filled: dict[str, Path], conformant: ReferenceData
) -> None:
    cache = LookupCache()
    s = screener(conformant, cache, isolate=False)
    data = filled["CMRT-6.5"].read_bytes()
    once = canonical(s.screen_bytes(data))
    assert (cache.hits, cache.misses, len(cache)) == (0, 1, 1)
    assert canonical(s.screen_bytes(data)) == once and cache.hits == 1


# -- hostile files ---------------------------------------------------------------------------


def _parts(data: bytes) -> tuple[dict[str, bytes], str]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}, sheet_parts(zf)["Smelter Look-up"]


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return out.getvalue()


def _row_of(xml: bytes, cid: str) -> re.Match[bytes]:
    found = re.search(rb"<row [^>]*>(?:(?!</row>).)*<t>" + cid.encode() + rb"</t>.*?</row>", xml)
    assert found, cid
    return found


def _typed_cid(data: bytes) -> tuple[str, str]:
    """A CID the file typed in column A (resolved through the Look-up), and its country."""
    decl = screener(ReferenceData({}, "", (), {}, ""), None, isolate=False).read(data)
    row = next(r for r in decl.smelters if r.id_source == "A")
    return row.smelter_id, row.country


def _forge_crc(xml: bytes, target: int, start: int) -> bytes:
    """``xml`` with the case of some letters after ``start`` flipped so its CRC-32 is
    ``target`` (CRC-32 is affine over GF(2): the delta of each flip is independent)."""
    n = len(xml)
    letters = [m.start() for m in re.finditer(rb"<t>[A-Za-z]", xml[start:])][:400]
    base = zlib.crc32(b"\0" * n)
    basis: dict[int, tuple[int, int]] = {}  # pivot bit -> (delta, set of positions as bits)
    for k, rel in enumerate(letters):
        pos = start + rel + 3
        delta = zlib.crc32(b"\0" * pos + b"\x20" + b"\0" * (n - pos - 1)) ^ base
        mask = 1 << k
        for bit in sorted(basis, reverse=True):
            if delta >> bit & 1:
                delta ^= basis[bit][0]
                mask ^= basis[bit][1]
        if delta:
            basis[delta.bit_length() - 1] = (delta, mask)
        if len(basis) == 32:
            break
    want, chosen = zlib.crc32(xml) ^ target, 0
    for bit in sorted(basis, reverse=True):
        if want >> bit & 1:
            want ^= basis[bit][0]
            chosen ^= basis[bit][1]
    assert want == 0
    out = bytearray(xml)
    for k, rel in enumerate(letters):
        if chosen >> k & 1:
            out[start + rel + 3] ^= 0x20
    return bytes(out)


def test_a_forged_crc_does_not_poison_the_cache(
    filled: dict[str, Path], conformant: ReferenceData
) -> None:
    honest = filled["CMRT-6.5"].read_bytes()
    cid, country = _typed_cid(honest)
    parts, part = _parts(honest)
    xml = parts[part]
    row = _row_of(xml, cid)
    altered = row.group(0).replace(
        b"<t>" + country.encode() + b"</t>", b"<t>" + b"Z" * len(country) + b"</t>"
    )
    assert altered != row.group(0)
    hostile_xml = _forge_crc(
        xml[: row.start()] + altered + xml[row.end() :], zlib.crc32(xml), row.end()
    )
    assert (zlib.crc32(hostile_xml), len(hostile_xml)) == (zlib.crc32(xml), len(xml))
    hostile = _zip({**parts, part: hostile_xml})

    cache, s = _screen_hostile(conformant, hostile, cid, country)
    assert len(cache) == 1  # the hostile table is cached, under its own key
    after = s.screen_bytes(honest)
    assert canonical(after) == canonical(screener(conformant, None).screen_bytes(honest))
    assert {r.country for r in after.declaration.smelters if r.smelter_id == cid} == {country}  # type: ignore[union-attr]


def _shared(xml: bytes) -> tuple[bytes, list[str]]:
    """The sheet with its inline strings turned into shared-string references."""
    strings: list[str] = []

    def ref(m: re.Match[bytes]) -> bytes:
        strings.append(m.group(2).decode())
        return m.group(1) + b't="s"><v>' + str(len(strings) - 1).encode() + b"</v></c>"

    return re.sub(rb'(<c [^>]*?)t="inlineStr"><is><t>([^<]*)</t></is></c>', ref, xml), strings


def _with_sst(parts: dict[str, bytes], part: str, xml: bytes, strings: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    sst = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>"
    ).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    types = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
        b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    return _zip(
        {
            **parts,
            part: xml,
            "xl/_rels/workbook.xml.rels": rels,
            "[Content_Types].xml": types,
            "xl/sharedStrings.xml": sst,
        }
    )


def test_an_altered_shared_strings_part_does_not_poison_the_cache(
    filled: dict[str, Path], conformant: ReferenceData
) -> None:
    parts, part = _parts(filled["CMRT-6.5"].read_bytes())
    cid, country = _typed_cid(filled["CMRT-6.5"].read_bytes())
    xml, strings = _shared(parts[part])
    assert b't="s"' in xml and country in strings
    honest = _with_sst(parts, part, xml, strings)
    lying = [("Z" * len(s) if s == country else s) for s in strings]
    hostile = _with_sst(parts, part, xml, lying)

    cache, s = _screen_hostile(conformant, hostile, cid, country)
    after = s.screen_bytes(honest)
    assert {r.country for r in after.declaration.smelters if r.smelter_id == cid} == {country}  # type: ignore[union-attr]
    assert canonical(after) == canonical(screener(conformant, None).screen_bytes(honest))
    assert len(cache) == 0 and cache.hits == 0  # such a sheet is never cached


@pytest.mark.parametrize("spelling", ["duplicate", "duplicate-zip-entry"])
def test_a_second_look_up_sheet_does_not_poison_the_cache(
    filled: dict[str, Path], conformant: ReferenceData, spelling: str
) -> None:
    """A second ``<sheet name="Smelter Look-up">`` placed before the real one (the engine
    reads the first, the package map the last), or a second zip entry of the look-up's part
    name: the key could name the template's bytes while the engine reads the hostile rows, so
    such a package is never cached."""
    honest = filled["CMRT-6.5"].read_bytes()
    cid, country = _typed_cid(honest)
    parts, part = _parts(honest)
    xml = parts[part]
    row = _row_of(xml, cid)
    evil = xml.replace(row.group(0), row.group(0).replace(country.encode(), b"EVILAND"))
    assert evil != xml
    if spelling == "duplicate":
        wb = parts["xl/workbook.xml"]
        tag = re.search(rb'<sheet [^>]*name="Smelter Look-up"[^>]*/>', wb)
        assert tag
        evil_tag = re.sub(rb'r:id="[^"]+"', b'r:id="rIdEvil"', tag.group(0))
        rels = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rIdEvil" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/worksheet" Target="worksheets/evil.xml"/></Relationships>',
        )
        hostile = _zip(
            {
                **parts,
                "xl/workbook.xml": wb.replace(tag.group(0), evil_tag + tag.group(0)),
                "xl/_rels/workbook.xml.rels": rels,
                "xl/worksheets/evil.xml": evil,
            }
        )
    else:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, body in parts.items():
                zf.writestr(name, body)
            with pytest.warns(UserWarning, match="Duplicate name"):
                zf.writestr(part, evil)
        hostile = out.getvalue()
    cache = LookupCache()
    s = screener(conformant, cache)
    s.screen_bytes(hostile)
    assert len(cache) == 0  # an ambiguous package is read, never cached
    after = s.screen_bytes(honest)
    assert {r.country for r in after.declaration.smelters if r.smelter_id == cid} == {country}  # type: ignore[union-attr]
    assert len(cache) == 1  # the honest file is cached as before
