"""``assay dashboard`` end to end over HTTP: nothing without a login, everything with it,
localhost only, and a refusal to start without a usable password hash or database."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from datasette_auth_passwords.utils import verify_password

from assay.cli import cli
from tests.assay.dashboard_support import (
    ASSAY,
    ENV,
    HASH,
    PASSWORD,
    Dashboard,
    environ,
    start,
)
from tests.reports.dashboard_support import HOSTILE_CAMPAIGN, program_store

pytestmark = pytest.mark.e2e

PAGES = [
    "/",
    "/dashboard",
    "/dashboard/smelters",
    "/dashboard/campaign_suppliers?campaign_id=1",
    "/-/dashboards",
    "/-/dashboards/assay",
    "/-/dashboards/assay/overdue-suppliers",
    "/-/metadata",
    "/-/metadata.json",
    "/-/plugins",
    "/-/plugins.json",
    "/-/actor.json",
    "/dashboard.db",
    "/dashboard.json?sql=select+1",
    "/dashboard/smelters.json",
    "/dashboard/smelters.csv",
]


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    yield from start(tmp_path_factory.mktemp("dashboard"))


def _refused(r: httpx.Response) -> bool:
    if r.status_code in (401, 403):
        return True
    return r.status_code == 302 and r.headers["location"].endswith(
        ("/-/login", "/-/dashboards/assay")
    )


@pytest.mark.parametrize("page", PAGES)
def test_nothing_without_a_login(board: Dashboard, page: str) -> None:
    with board.client() as c:
        r = c.get(page)
        assert _refused(r), (page, r.status_code)
        final = c.get(page, follow_redirects=True)
        assert final.url.path == "/-/login" or final.status_code in (401, 403)
        assert "CMRT 2026" not in final.text and "Tin" not in final.text


def test_login_opens_every_page(board: Dashboard) -> None:
    with board.client() as c:
        r = board.login(c)
        assert r.status_code == 302
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("ds_actor=") and "HttpOnly" in cookie
        for page in PAGES:
            r = c.get(page, follow_redirects=True)
            if page == "/dashboard.db":  # downloads are off, logged in or not
                assert r.status_code == 403
                continue
            assert r.status_code == 200, (page, r.status_code)
        assert c.get("/dashboard.json?sql=select+1+as+one&_shape=array").json() == [{"one": 1}]
        board_page = c.get("/-/dashboards/assay")
        assert "Responsible minerals program" in board_page.text
        assert "default-src 'self'" in board_page.headers["content-security-policy"]
        # the campaign filter's options are names from outside: escaped by the template
        assert "&lt;b&gt;EMRT&lt;/b&gt; 2026" in board_page.text
        assert HOSTILE_CAMPAIGN not in board_page.text
        # the board's scripts are served here, not from a CDN
        assert "/-/static-plugins/datasette_dashboards/vega.min.js" in board_page.text
        assert c.get("/-/static-plugins/datasette_dashboards/vega.min.js").status_code == 200
        assert "https://" not in "".join(
            line for line in board_page.text.splitlines() if "<script" in line
        )


def test_wrong_password_stays_out(board: Dashboard) -> None:
    with board.client() as c:
        r = board.login(c, "not the password")
        assert r.status_code == 200 and "Invalid username or password" in r.text
        assert "ds_actor" not in c.cookies
        assert _refused(c.get("/-/dashboards/assay"))


def test_password_tool_is_closed(board: Dashboard) -> None:
    with board.client() as c:
        assert c.post("/-/password-tool", data={"password": "x"}).status_code == 404


def test_binds_localhost_only(board: Dashboard) -> None:
    # 127.0.0.2 is this machine too: a server on 0.0.0.0 would answer there
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", board.port), timeout=2):
        pass


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "hunter2",
        "md5$1$salt$hash",
        "pbkdf2_sha256$many$salt$hash",
        "pbkdf2_sha256$1000$salt$aGFzaA==",  # too few iterations
        "pbkdf2_sha256$480000$$aGFzaA==",
    ],
)
def test_refuses_to_start_without_a_usable_hash(tmp_path: Path, value: str | None) -> None:
    db = tmp_path / "dashboard.db"
    db.write_bytes(b"")
    r = subprocess.run(
        [ASSAY, "dashboard", "--port", "1", "--db", str(db)],
        env=environ(value),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and ENV in lines[0] and "hash-password" in lines[0]
    if value:
        assert value not in r.stderr  # the secret is not echoed


@pytest.mark.parametrize("kind", ["missing", "random", "empty", "assay"])
def test_refuses_to_start_without_the_database(tmp_path: Path, kind: str) -> None:
    db = tmp_path / "dashboard.db"
    if kind == "random":
        db.write_bytes(os.urandom(5000))
    elif kind == "empty":
        db.write_bytes(b"")
    elif kind == "assay":  # Assay's own database is not the aggregate one
        db = program_store(tmp_path)
    r = subprocess.run(
        [ASSAY, "dashboard", "--db", str(db)],
        env=environ(HASH),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1
    assert "assay dashboard build" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["random", "assay", "directory"])
def test_build_refuses_a_file_that_is_not_the_dashboards(tmp_path: Path, kind: str) -> None:
    """`--out` at Assay's own database (or anything not built by it) is one line, untouched."""
    store = program_store(tmp_path)
    out = {"random": tmp_path / "junk.db", "assay": store, "directory": tmp_path}[kind]
    if kind == "random":
        out.write_bytes(os.urandom(5000))
    before = out.read_bytes() if out.is_file() else None
    r = CliRunner().invoke(cli, ["dashboard", "build", "--db", str(store), "--out", str(out)])
    assert isinstance(r.exception, SystemExit) and r.exit_code == (2 if kind == "directory" else 1)
    assert r.output.strip().splitlines()[-1].startswith("Error: ")
    if kind != "directory":  # a usage error also prints the usage line
        assert len(r.output.strip().splitlines()) == 1 and "choose another file" in r.output
    if before is not None:
        assert out.read_bytes() == before


def test_build_and_hash_password(tmp_path: Path) -> None:
    store = program_store(tmp_path)
    out = tmp_path / "board" / "dashboard.db"
    r = CliRunner().invoke(cli, ["dashboard", "build", "--db", str(store), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert str(out) in r.output and "campaigns 2" in r.output
    assert out.stat().st_mode & 0o077 == 0
    r = CliRunner().invoke(cli, ["dashboard", "hash-password", "--stdin"], input=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    line = r.stdout.splitlines()[0]
    assert verify_password(PASSWORD, line) and not verify_password("other", line)
    assert ENV in r.stderr
    r = CliRunner().invoke(cli, ["dashboard", "hash-password", "--stdin"], input="\n")
    assert r.exit_code != 0
    # typed twice at the prompt (hidden)
    r = CliRunner().invoke(cli, ["dashboard", "hash-password"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0 and PASSWORD not in r.stdout
    assert verify_password(PASSWORD, r.stdout.strip().splitlines()[-1])


def test_http_basic_is_not_a_way_in(board: Dashboard) -> None:
    """datasette-auth-passwords would accept the right password in an Authorization header
    on any URL (and hash a wrong one there, on the event loop): the guard drops the header."""
    with board.client() as c:
        for auth in (("compliance", PASSWORD), ("compliance", "wrong")):
            r = c.get("/dashboard.json?sql=select+1", auth=auth)
            assert _refused(r), (auth[1] == PASSWORD, r.status_code)
        r = c.get("/-/login", headers={"authorization": "Basic Y29tcGxpYW5jZTr/"})  # not UTF-8
        assert r.status_code == 200
