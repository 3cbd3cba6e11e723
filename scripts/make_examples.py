"""Generate the synthetic example declarations in examples/ from the blank templates.

    python scripts/make_examples.py

All data is invented (example.test addresses, 555-01xx phones). The CMRT carries the kind
of problems real files have, so the quick start shows what a screening finds.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from plugins.countries import COVERED_COUNTRIES, country_code  # noqa: E402
from tests.builders import cmrt_cells, emrt2_cells, fill, lookup_entries  # noqa: E402
from tests.builders import real_template as template  # noqa: E402


def main() -> None:
    out = ROOT / "examples"
    out.mkdir(exist_ok=True)
    src = template("cmrt/RMI_CMRT_6.5_zh-ui.xlsx")
    cells = cmrt_cells(src)
    decl = cells["Declaration"]
    decl["D8"] = "Northwind Synthetic Metals Ltd.\t\t"  # trailing tabs, as real files have
    decl["D16"] = "pat.doe@example,test"  # a comma instead of a dot
    decl["D18"] = "same"
    decl["D22"] = "02-May-2026"  # a date typed as text
    decl["D57"] = "Greater than 75%"  # Tin: not every supplier answered
    decl["G77"] = None  # policy said to be public, but no URL
    # A tin smelter in a covered country, and a row the supplier could not identify.
    covered = next(
        e
        for e in lookup_entries(src)
        if e.metal == "Tin" and country_code(e.country) in COVERED_COUNTRIES
    )
    rows = cells["Smelter List"]
    rows.update(
        {
            "A20": covered.cid,
            "B21": "Gold",
            "C21": "Smelter not yet identified",
            "B22": "Tin",
            "C22": "Smelter not listed",
            "D22": "Synthetic Tin Works",
            "E22": "BRAZIL",
        }
    )
    fill(src, out / "northwind-cmrt-6.5.xlsx", cells)
    emrt = template("emrt/RMI_EMRT_2.1.xlsx")
    cells = emrt2_cells(emrt)
    cells["Declaration"]["D8"] = "Contoso Synthetic Batteries Inc."
    fill(emrt, out / "contoso-emrt-2.1.xlsx", cells)
    make_messages(out)
    print(
        "\n".join(
            str(p.relative_to(ROOT))
            for p in sorted(out.rglob("*.*"))
            if p.suffix in (".xlsx", ".eml")
        )
    )


def make_messages(out: Path) -> None:
    """Example messages the quick start's `assay serve --once` screens (all synthetic)."""
    import datetime as dt
    import io
    import zipfile
    from email.message import EmailMessage
    from email.utils import format_datetime

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    when = format_datetime(dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC))

    def message(sender: str, to: str, subject: str, body: str, n: int) -> EmailMessage:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"], m["Date"] = sender, to, subject, when
        m["Message-ID"] = f"<example-{n}@example.test>"
        m.set_content(body)
        return m

    sup = out / "mail" / "suppliers"
    grv = out / "mail" / "grievances"
    for folder in (sup, grv):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.eml"):
            old.unlink()
    inbox = "Supplier survey <survey@example.test>"
    m = message(
        "Pat Doe <pat.doe@northwind.example.test>",
        inbox,
        "Re: 2026 conflict minerals survey",
        "Hello, please find our CMRT attached.\nRegards, Pat",
        1,
    )
    m.add_attachment(
        (out / "northwind-cmrt-6.5.xlsx").read_bytes(),
        maintype="application",
        subtype=xlsx.split("/")[1],
        filename="Northwind CMRT 2026.xlsx",
    )
    (sup / "01-northwind-cmrt.eml").write_bytes(bytes(m))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("contoso-emrt-2.1.xlsx", (out / "contoso-emrt-2.1.xlsx").read_bytes())
    m = message(
        "Lee Roe <lee.roe@contoso.example.test>", inbox, "EMRT 2026", "Our EMRT, zipped.", 2
    )
    m.add_attachment(
        buf.getvalue(), maintype="application", subtype="zip", filename="contoso-emrt.zip"
    )
    (sup / "02-contoso-emrt-zip.eml").write_bytes(bytes(m))
    m = message(
        "Kim Poe <kim.poe@fabrikam.example.test>",
        inbox,
        "Re: 2026 conflict minerals survey",
        "We are working on it and will send the template next week.",
        3,
    )
    (sup / "03-fabrikam-no-template.eml").write_bytes(bytes(m))
    m = message(
        "Kim Poe <kim.poe@fabrikam.example.test>",
        inbox,
        "Automatic reply: 2026 conflict minerals survey",
        "I am out of the office until Monday.",
        4,
    )
    m["Auto-Submitted"] = "auto-replied"
    (sup / "04-fabrikam-out-of-office.eml").write_bytes(bytes(m))
    m = message(
        "A Concerned Worker <worker.1234@example.test>",
        "Grievances <grievances@example.test>",
        "Children working at a tin smelter",
        "I saw children carrying ore at the smelter CID000292 last month. Please look into it.",
        5,
    )
    (grv / "01-report.eml").write_bytes(bytes(m))


if __name__ == "__main__":
    main()
