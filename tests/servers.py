"""Real servers for end-to-end tests: a private Dovecot (IMAP + LMTP) and aiosmtpd.

Dovecot runs from its own config file as the unprivileged ``dovecot`` user (its login
processes refuse root), in a folder made with ``tempfile.mkdtemp()`` (pytest's tmp_path
sits under a 0700 folder the dovecot user cannot enter). See shared/docs/test-servers.md.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

PASSWORD = "secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    lmtp_port: int
    user: str = "dovecot"
    proc_pid: int = 0
    users: set[str] = field(default_factory=set)

    @classmethod
    def available(cls) -> bool:
        return shutil.which("dovecot") is not None or Path("/usr/sbin/dovecot").exists()

    def config(self) -> str:
        pw = pwd.getpwnam(self.user)
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
protocols = imap lmtp
mail_location = maildir:~/Maildir
default_login_user = {self.user}
default_internal_user = {self.user}
default_internal_group = {_group(pw.pw_gid)}
first_valid_uid = {pw.pw_uid}
first_valid_gid = {pw.pw_gid}
passdb {{
  driver = passwd-file
  args = {self.root}/users
}}
userdb {{
  driver = passwd-file
  args = {self.root}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Processed {{
    auto = create
  }}
  mailbox Sent {{
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {self.user}
}}
service auth-worker {{
  user = {self.user}
}}
lmtp_save_to_detail_mailbox = no
"""

    def add_user(self, address: str) -> str:
        pw = pwd.getpwnam(self.user)
        if address not in self.users:
            home = self.root / "home" / address
            with (self.root / "users").open("a") as f:
                f.write(f"{address}:{{PLAIN}}{PASSWORD}:{pw.pw_uid}:{pw.pw_gid}::{home}\n")
            self.users.add(address)
        return address

    def start(self) -> None:
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").touch()
        (self.root / "dovecot.conf").write_text(self.config())
        subprocess.run(["chown", "-R", f"{self.user}:", str(self.root)], check=True)
        os.chmod(self.root, 0o755)
        cmd = ["/usr/sbin/dovecot", "-c", str(self.root / "dovecot.conf")]
        if os.geteuid() == 0:
            cmd = ["setpriv", f"--reuid={self.user}", f"--regid={self.user}", "--init-groups", *cmd]
        subprocess.run(cmd, check=True)
        pid_file = self.root / "run" / "master.pid"
        deadline = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        _wait_port(self.imap_port)
        _wait_port(self.lmtp_port)
        self.proc_pid = int(pid_file.read_text().strip())

    def stop(self) -> None:
        pid_file = self.root / "run" / "master.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().strip())
        children = _children(pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        # Session processes (imap) can outlive the master; a real restart drops their clients.
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def deliver(self, to: str, raw: bytes, sender: str = "sender@example.test") -> None:
        """Deliver over LMTP, as an MTA would.

        A user added a moment ago can be unknown for up to a second (passwd-file is
        re-read on a changed mtime, which has one-second resolution here): retry briefly.
        """
        deadline = time.monotonic() + 5
        while True:
            try:
                with smtplib.LMTP("127.0.0.1", self.lmtp_port) as lmtp:
                    lmtp.sendmail(sender, [to], raw)
                return
            except smtplib.SMTPRecipientsRefused:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    def imap(self, address: str):  # type: ignore[no-untyped-def]
        import imapclient

        client = imapclient.IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=10)
        client.login(address, PASSWORD)
        return client

    def messages(self, address: str, folder: str = "INBOX") -> list[Message]:
        client = self.imap(address)
        try:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [message_from_bytes(data[u][b"BODY[]"]) for u in sorted(data)]
        finally:
            client.logout()


def _children(parent: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            out.append(int(stat.parent.name))
    return out


def _group(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


def start_dovecot() -> Dovecot:
    root = Path(tempfile.mkdtemp(prefix="assay-dovecot-"))
    dovecot = Dovecot(root, free_port(), free_port())
    try:
        dovecot.start()
    except BaseException:
        dovecot.stop()  # never leave a half-started server behind
        raise
    return dovecot


class RelayHandler:
    """aiosmtpd handler: keeps every message and passes it on to Dovecot over LMTP."""

    def __init__(self, dovecot: Dovecot | None) -> None:
        self.dovecot = dovecot
        self.received: list[tuple[str, list[str], bytes]] = []
        self.event = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        data = envelope.original_content or envelope.content
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(data)))
        if self.dovecot is not None:
            for rcpt in envelope.rcpt_tos:
                if rcpt in self.dovecot.users:
                    self.dovecot.deliver(rcpt, bytes(data), envelope.mail_from)
        self.event.set()
        return "250 OK"


class Smtp:
    def __init__(self, dovecot: Dovecot | None = None, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.handler = RelayHandler(dovecot)
        self.port = port or free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> Smtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
