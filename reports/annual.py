"""The annual report: one self-contained HTML page of the year's due-diligence figures.

Six sections: suppliers surveyed, smelters by RMAP standing, the published smelter list,
risks and remediation, grievances, charts. The figures are :mod:`reports.annual_data`'s
(counts and dates, never a supplier's name or a grievance's content); the words are
:mod:`reports.annual_text`'s, one table per language, so English and Chinese print the same
numbers. The page holds its CSS and its SVG charts inline: no script, no external address.
Every text from the data is escaped with :func:`html.escape`.

Byte-stable: nothing reads the clock, every list is sorted, and the charts are
(:mod:`reports.annual_charts`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from html import escape

from program.smelter_list import metal_rank
from storage.store import Store

from .annual_charts import response_chart, response_curve, share_chart
from .annual_data import AnnualFacts, annual_facts
from .annual_text import text, word

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",
"PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:60em;color:#222;
line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #ccc;padding-bottom:.2em}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.6em 0 1.2em}th,td{border:1px solid #ccc;
padding:.25em .6em;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f2f4f7}tr.total td{font-weight:bold}.note{color:#555}
figure{margin:1em 0}svg{max-width:100%;height:auto}code{font-size:.95em}
"""
# matplotlib's SVG names namespaces and a metadata block by URL; inline in HTML neither
# is needed, and the page then holds no address at all.
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


_NUM = ' class="n"'
_NOTE = ' class="note"'


def _inline(svg: str) -> str:
    return _METADATA.sub("", _XMLNS.sub("", svg))


def percent(fraction: float) -> str:
    """0.9512 -> "95.1%" (the same in every language)."""
    return f"{100 * fraction:.1f}%"


def _cell(value: object, numeric: bool) -> str:
    return f"<td{_NUM if numeric else ''}>{escape(str(value))}</td>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    numeric: Iterable[int] = (),
    total: Sequence[object] | None = None,
) -> str:
    """An HTML table; ``numeric``: the columns aligned right; ``total``: a last bold row."""
    nums = set(numeric)
    head = "".join(
        f"<th{_NUM if i in nums else ''}>{escape(h)}</th>" for i, h in enumerate(headers)
    )
    body = ["<tr>" + "".join(_cell(v, i in nums) for i, v in enumerate(r)) + "</tr>" for r in rows]
    if total is not None:
        body.append(
            '<tr class="total">'
            + "".join(_cell(v, i in nums) for i, v in enumerate(total))
            + "</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>\n"


def _p(content: str, note: bool = False) -> str:
    return f"<p{_NOTE if note else ''}>{escape(content)}</p>\n"


def suppliers_section(facts: AnnualFacts, t: Mapping[str, str], lang: str) -> str:
    out = [f"<h2>{escape(t['s1'])}</h2>\n"]
    if facts.campaigns:
        out.append(_p(t["s1_campaigns"], note=True))
        rows: list[tuple[object, ...]] = [
            (
                c.name,
                c.family,
                c.opened_on.isoformat(),
                c.deadline.isoformat(),
                c.suppliers,
                c.responded,
                percent(c.response_rate),
                word(lang, c.category),
                c.as_of.isoformat(),
            )
            for c in facts.campaigns
        ]
        headers = [
            t[k]
            for k in (
                "campaign",
                "template",
                "opened",
                "deadline",
                "suppliers",
                "responded",
                "rate",
                "category",
                "figures_as_of",
            )
        ]
        out.append(table(headers, rows, numeric=(4, 5, 6)))
    else:
        out.append(_p(t["s1_registry"], note=True))
        rows = [
            (
                r.family,
                r.suppliers,
                r.responded,
                percent(r.response_rate),
                word(lang, r.category),
                r.as_of.isoformat() if r.as_of else t["none_yet"],
            )
            for r in facts.registry
        ]
        headers = [
            t[k]
            for k in ("template", "suppliers", "responded", "rate", "category", "figures_as_of")
        ]
        out.append(table(headers, rows, numeric=(1, 2, 3)))
    return "".join(out)


def standings_section(facts: AnnualFacts, t: Mapping[str, str], lang: str) -> str:
    out = [f"<h2>{escape(t['s2'])}</h2>\n"]
    out.append(_p(t["s2_note"].format(files=facts.files, suppliers=facts.suppliers), note=True))
    rows = [
        (
            word(lang, c.metal),
            c.smelters,
            c.conformant,
            c.active,
            c.not_conformant,
            c.not_covered,
            percent(c.share_conformant),
            c.list_date or "",
        )
        for c in facts.counts
    ]
    n = sum(c.smelters for c in facts.counts)
    conformant = sum(c.conformant for c in facts.counts)
    total = (
        t["total"],
        n,
        conformant,
        sum(c.active for c in facts.counts),
        sum(c.not_conformant for c in facts.counts),
        sum(c.not_covered for c in facts.counts),
        percent(round(conformant / n, 4) if n else 0.0),
        "",
    )
    headers = [
        t[k]
        for k in (
            "metal",
            "smelters",
            "conformant",
            "active",
            "not_conformant",
            "not_covered",
            "share",
            "list_date",
        )
    ]
    out.append(table(headers, rows, numeric=range(1, 7), total=total if rows else None))
    return "".join(out)


def smelter_section(facts: AnnualFacts, t: Mapping[str, str], lang: str) -> str:
    out = [f"<h2>{escape(t['s3'])}</h2>\n", _p(t["s3_note"], note=True)]
    entries = facts.smelters.entries
    if entries:
        rows = [(word(lang, e.metal), e.cid, e.country) for e in entries]
        out.append(table([t["metal"], t["smelter"], t["country"]], rows))
    else:
        out.append(_p(t["no_smelters"]))
    if facts.smelters.unidentified:
        counts: Counter[tuple[str, str]] = Counter()
        for u in facts.smelters.unidentified:
            counts[(u.metal, u.reason)] += u.rows
        rows2 = [
            (word(lang, metal), word(lang, reason), n)
            for (metal, reason), n in sorted(counts.items(), key=lambda kv: metal_rank(kv[0][0]))
        ]
        out.append(f"<h3>{escape(t['unidentified'])}</h3>\n")
        out.append(_p(t["unidentified_note"], note=True))
        out.append(table([t["metal"], t["reason"], t["rows"]], rows2, numeric=(2,)))
    return "".join(out)


def risk_section(facts: AnnualFacts, t: Mapping[str, str], lang: str) -> str:
    out = [f"<h2>{escape(t['s4'])}</h2>\n", _p(t["risk_note"], note=True)]
    if facts.risk_codes:
        out.append(table([t["finding"], t["findings"]], facts.risk_codes, numeric=(1,)))
    else:
        out.append(_p(t["no_risks"]))
    if facts.metal_risks:
        out.append(_p(t["country_note"], note=True))
        rows = [
            (word(lang, m.metal), m.smelters, m.covered_country, m.cahra_country)
            for m in facts.metal_risks
        ]
        out.append(
            table([t["metal"], t["smelters"], t["covered"], t["cahra"]], rows, numeric=(1, 2, 3))
        )
    out.append(f"<h3>{escape(t['remediation'])}</h3>\n")
    rows3 = [
        (t["rem_opened"], facts.remediations_opened),
        (t["rem_closed"], facts.remediations_closed),
        (t["rem_waived"], facts.remediations_waived),
        (t["rem_open"], facts.remediations_open),
    ]
    out.append(table(["", t["count"]], rows3, numeric=(1,)))
    return "".join(out)


def grievance_section(facts: AnnualFacts, t: Mapping[str, str], lang: str) -> str:
    out = [f"<h2>{escape(t['s5'])}</h2>\n", _p(t["g_note"].format(n=facts.grievances), True)]
    if facts.grievances:
        out.append(f"<h3>{escape(t['by_category'])}</h3>\n")
        cats = [(word(lang, c), n) for c, n in facts.grievance_categories]
        out.append(table([t["category"], t["count"]], cats, numeric=(1,)))
        out.append(f"<h3>{escape(t['by_status'])}</h3>\n")
        stats = [(word(lang, s), n) for s, n in facts.grievance_statuses]
        out.append(table([t["status"], t["count"]], stats, numeric=(1,)))
    return "".join(out)


def chart_section(facts: AnnualFacts, t: Mapping[str, str], lang: str) -> str:
    out = [f"<h2>{escape(t['s6'])}</h2>\n"]
    curves = [
        response_curve(
            f"{c.family}: {c.name}",
            c.first_response_days,
            c.suppliers,
            max(0, (c.as_of - c.opened_on).days),
        )
        for c in facts.campaigns
    ]
    if curves:
        svg = response_chart(
            curves, t["chart_response"], t["chart_response_x"], t["chart_response_y"]
        )
        out.append(f"<figure>{_inline(svg)}</figure>\n")
    else:
        out.append(f"<h3>{escape(t['chart_response'])}</h3>\n{_p(t['no_chart'])}")
    bars = [(word(lang, c.metal), 100 * c.share_conformant) for c in facts.counts]
    if bars:
        svg = share_chart(bars, t["chart_share"], t["chart_share_y"])
        out.append(f"<figure>{_inline(svg)}</figure>\n")
    else:
        out.append(f"<h3>{escape(t['chart_share'])}</h3>\n{_p(t['no_chart'])}")
    return "".join(out)


def render_annual(facts: AnnualFacts, lang: str = "en", company: str = "") -> str:
    """The report's HTML page in ``lang`` (``company``: its name for the title)."""
    t = text(lang)
    title = (
        t["title_company"].format(company=company, year=facts.year)
        if company
        else t["title"].format(year=facts.year)
    )
    dated = t["as_of"].format(date=facts.as_of.isoformat()) if facts.as_of else t["no_file"]
    parts = [
        "<!DOCTYPE html>\n",
        f'<html lang="{t["html_lang"]}">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        f"<h1>{escape(title)}</h1>\n",
        _p(dated, note=True),
        _p(t["intro"], note=True),
        suppliers_section(facts, t, lang),
        standings_section(facts, t, lang),
        smelter_section(facts, t, lang),
        risk_section(facts, t, lang),
        grievance_section(facts, t, lang),
        chart_section(facts, t, lang),
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def annual_report(store: Store, year: int, lang: str = "en", company: str = "") -> str:
    """The annual report of ``year`` from the Store, as HTML."""
    text(lang)  # an unknown language fails before any reading
    return render_annual(annual_facts(store, year), lang, company)
