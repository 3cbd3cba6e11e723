"""The supplier registry file's owner and metals columns (issue 10), by any of their names."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from assay.cli import cli
from storage.listtable import RefDataError
from storage.store import Store
from storage.supplier_file import owner_kind, parse_supplier_file


def _csv(tmp_path: Path, text: str, name: str = "suppliers.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


@pytest.mark.parametrize(
    ("owner_header", "metals_header"),
    [
        ("Owner", "Metals"),
        ("Internal owner", "Metals in scope"),
        ("Buyer", "Minerals"),
        ("SUPPLIER OWNER", "minerals in scope"),
    ],
)
def test_owner_and_metals_columns_by_any_name(
    tmp_path: Path, owner_header: str, metals_header: str
) -> None:
    path = _csv(
        tmp_path,
        f"Name,Emails,Templates,{owner_header},{metals_header}\n"
        'Alpha Synthetic Metals,survey@alpha.example.test,CMRT,buyer@corp.example.test,"tin; TANTALUM | Sn"\n'
        "Beta Synthetic Alloys,survey@beta.example.test,EMRT,U0123ABCD,cobalt/Mica\n"
        "Gamma Synthetic Parts,survey@gamma.example.test,CMRT,,\n",
    )
    rows = {r.name: r for r in parse_supplier_file(path)}
    alpha, beta, gamma = (
        rows["Alpha Synthetic Metals"],
        rows["Beta Synthetic Alloys"],
        rows["Gamma Synthetic Parts"],
    )
    assert alpha.owner == "buyer@corp.example.test"
    assert alpha.metals == ("Tantalum", "Tin")  # canonical names, once each, sorted
    assert beta.owner == "U0123ABCD"
    assert beta.metals == ("Cobalt", "Mica")
    assert (gamma.owner, gamma.metals) == ("", ())  # blank: no owner, every metal


def test_an_owner_that_is_neither_address_nor_slack_user_is_refused_naming_the_row(
    tmp_path: Path,
) -> None:
    path = _csv(
        tmp_path,
        "Name,Emails,Owner\n"
        "Alpha Synthetic Metals,survey@alpha.example.test,buyer@corp.example.test\n"
        "Beta Synthetic Alloys,survey@beta.example.test,Pat in purchasing\n",
    )
    with pytest.raises(RefDataError) as caught:
        parse_supplier_file(path)
    message = str(caught.value)
    assert message.startswith("Row 3:")  # the header is row 1
    assert "'Pat in purchasing'" in message
    assert "Slack user id" in message


def test_the_import_command_refuses_a_bad_owner_and_imports_nothing(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    path = _csv(
        tmp_path,
        "Name,Emails,Owner\n"
        "Alpha Synthetic Metals,survey@alpha.example.test,U0123ABCD\n"
        "Beta Synthetic Alloys,survey@beta.example.test,#compliance-channel\n",
    )
    result = CliRunner().invoke(cli, ["suppliers", "import", "--db", str(db), str(path)])
    assert result.exit_code == 1
    assert "suppliers.csv: Row 3: the owner '#compliance-channel'" in result.output
    assert Store(db).suppliers() == []


def test_owner_and_metals_are_kept_by_the_store_and_replaced_on_reimport(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Registry 2026"])
    ws.append(["Supplier name", "Contact emails", "Internal owner", "Minerals in scope"])
    ws.append(["Alpha Synthetic Metals", "survey@alpha.example.test", "W0ABCDEF12", "Gold, Tin"])
    first = tmp_path / "registry.xlsx"
    wb.save(first)
    store = Store(tmp_path / "s.db")
    store.import_suppliers(parse_supplier_file(first))
    [alpha] = store.suppliers()
    assert (alpha.owner, alpha.metals) == ("W0ABCDEF12", ("Gold", "Tin"))

    second = _csv(
        tmp_path,
        "name,email,owner,metals\nAlpha Synthetic Metals,survey@alpha.example.test,buyer@corp.example.test,\n",
    )
    store.import_suppliers(parse_supplier_file(second))
    [again] = store.suppliers()
    assert again.id == alpha.id
    assert (again.owner, again.metals) == ("buyer@corp.example.test", ())


@pytest.mark.parametrize(
    ("owner", "kind"),
    [
        ("U0123ABCD", "slack"),
        ("W0123ABCD", "slack"),
        ("U01234567890ABCDEFGHI", "slack"),  # 20 after the letter: the longest accepted
        ("U01234", ""),  # too short to be a user id
        ("u0123abcd", ""),  # Slack ids are upper case
        ("C0123ABCD", ""),  # a channel, not a user
        ("<@U0123ABCD>", ""),  # a mention, not an id
        ("buyer@corp.example.test", "email"),
        ("Pat <buyer@corp.example.test>", ""),  # a display name is not an address
        ("buyer@localhost", ""),
        ("", ""),
    ],
)
def test_owner_kind(owner: str, kind: str) -> None:
    assert owner_kind(owner) == kind


def test_metals_separated_by_spaces_are_read_word_by_word(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "Name,Emails,Metals\n"
        "Alpha Synthetic Metals,survey@alpha.example.test,Tin Gold\n"
        'Beta Synthetic Alloys,survey@beta.example.test,"natural graphite, Silver"\n',
    )
    rows = {r.name: r.metals for r in parse_supplier_file(path)}
    assert rows["Alpha Synthetic Metals"] == ("Gold", "Tin")
    assert rows["Beta Synthetic Alloys"] == ("Graphite", "Silver")  # an AMRT mineral kept
