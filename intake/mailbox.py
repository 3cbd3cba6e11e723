"""Mailboxes: IMAP (imapclient) and a local Maildir (the embedded default), one interface.

Processing never sees a connection: it gets bytes. A message is read with ``BODY.PEEK``
(it stays unseen) and is moved to ``Processed`` or ``Needs attention`` only after the
caller has stored its result. Messages still in the inbox are, by construction, the ones
not yet done; a restart simply finds them again, and the store (keyed by the message's
sha256) tells which were recorded before the move.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MessageRef:
    uid: str
    uidvalidity: int = 0


@dataclass(frozen=True)
class MailboxSettings:
    kind: str = "maildir"  # "maildir" or "imap"
    path: str = ""
    host: str = ""
    port: int = 993
    security: str = "ssl"  # "ssl", "starttls" or "none"
    user: str = ""
    password: str = ""  # resolved from the env var by the composition root
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    attention_folder: str = "Needs attention"
    poll_seconds: float = 60.0
    timeout: float = 30.0
    # Delete instead of moving to Processed once the result is stored (the grievance
    # mailbox: the original names the reporter, and its content is kept encrypted).
    delete_processed: bool = False


class MailboxError(Exception):
    """The mailbox server failed or went away: retry with backoff (our side, not the sender's)."""


class Mailbox(Protocol):
    name: str

    def connect(self) -> None: ...
    def close(self) -> None: ...
    def pending(self) -> list[MessageRef]: ...
    def fetch(self, ref: MessageRef) -> bytes: ...
    def mark_processed(self, ref: MessageRef) -> None: ...
    def mark_attention(self, ref: MessageRef) -> None: ...
    def wait(self, timeout: float, stop: threading.Event | None = None) -> None: ...


class MaildirMailbox:
    """A Maildir folder: ``new/`` and ``cur/``; done messages move to ``.Processed``."""

    def __init__(self, name: str, settings: MailboxSettings) -> None:
        self.name = name
        self.root = Path(settings.path)
        self.settings = settings

    def _folder(self, label: str) -> Path:
        path = self.root / ("." + label.replace(" ", "_").replace("/", "."))
        for sub in ("new", "cur", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        return path

    def connect(self) -> None:
        for sub in ("new", "cur", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass

    def pending(self) -> list[MessageRef]:
        refs = []
        for sub in ("new", "cur"):
            for entry in sorted((self.root / sub).iterdir()):
                if entry.is_file() and not entry.name.startswith("."):
                    refs.append(MessageRef(f"{sub}/{entry.name}"))
        return refs

    def fetch(self, ref: MessageRef) -> bytes:
        try:
            return (self.root / ref.uid).read_bytes()
        except OSError as exc:
            raise MailboxError(str(exc)) from exc

    def _move(self, ref: MessageRef, label: str) -> None:
        target = self._folder(label) / "cur" / Path(ref.uid).name
        try:
            os.replace(self.root / ref.uid, target)
        except FileNotFoundError:
            log.info("maildir message %s already moved", ref.uid)

    def mark_processed(self, ref: MessageRef) -> None:
        if self.settings.delete_processed:
            (self.root / ref.uid).unlink(missing_ok=True)
        else:
            self._move(ref, self.settings.processed_folder)

    def mark_attention(self, ref: MessageRef) -> None:
        self._move(ref, self.settings.attention_folder)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> None:
        (stop or threading.Event()).wait(min(timeout, self.settings.poll_seconds))

    def deliver(self, raw: bytes, name: str) -> None:
        """Put a message in ``new/`` as an MTA would (tmp, then rename)."""
        self.connect()
        tmp = self.root / "tmp" / name
        tmp.write_bytes(raw)
        os.replace(tmp, self.root / "new" / name)


class ImapMailbox:
    """An IMAP folder through imapclient; IDLE where the server has it, polling otherwise."""

    def __init__(
        self, name: str, settings: MailboxSettings, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self.ssl_context = ssl_context
        self.client: object | None = None
        self.uidvalidity = 0
        self.capabilities: set[bytes] = set()

    def connect(self) -> None:
        import imapclient

        s = self.settings
        try:
            client = imapclient.IMAPClient(
                s.host,
                port=s.port,
                ssl=s.security == "ssl",
                ssl_context=self.ssl_context,
                timeout=s.timeout,
            )
            if s.security == "starttls":
                client.starttls(self.ssl_context)
            client.login(s.user, s.password)
            for folder in (s.processed_folder, s.attention_folder):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
            info = client.select_folder(s.folder)
            self.uidvalidity = int(info.get(b"UIDVALIDITY", 0))
            self.capabilities = set(client.capabilities())
        except (imapclient.exceptions.IMAPClientError, OSError) as exc:
            raise MailboxError(f"{self.name}: cannot connect to {s.host}:{s.port}: {exc}") from exc
        self.client = client
        log.info(
            "%s: connected to %s:%s, folder %s, UIDVALIDITY %s",
            self.name,
            s.host,
            s.port,
            s.folder,
            self.uidvalidity,
        )

    def _c(self):  # type: ignore[no-untyped-def]
        if self.client is None:
            raise MailboxError(f"{self.name}: not connected")
        return self.client

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.logout()  # type: ignore[attr-defined]
            except Exception:  # the connection may already be gone; closing must not fail
                log.debug("%s: logout failed", self.name, exc_info=True)

    def _call(self, what: str, fn, *args):  # type: ignore[no-untyped-def]
        import imapclient

        try:
            return fn(*args)
        except (imapclient.exceptions.IMAPClientError, OSError, EOFError) as exc:
            raise MailboxError(f"{self.name}: {what} failed: {exc}") from exc

    def pending(self) -> list[MessageRef]:
        uids = self._call("search", self._c().search, ["ALL"])
        return [MessageRef(str(uid), self.uidvalidity) for uid in sorted(uids)]

    def fetch(self, ref: MessageRef) -> bytes:
        data = self._call("fetch", self._c().fetch, [int(ref.uid)], ["BODY.PEEK[]"])
        item = data.get(int(ref.uid), {})
        raw = item.get(b"BODY[]")
        if raw is None:
            raise MailboxError(f"{self.name}: message {ref.uid} vanished")
        return bytes(raw)

    def _move(self, ref: MessageRef, folder: str) -> None:
        client = self._c()
        if ref.uidvalidity and ref.uidvalidity != self.uidvalidity:
            raise MailboxError(
                f"{self.name}: UIDVALIDITY changed; message {ref.uid} will be found again"
            )
        if b"MOVE" in self.capabilities:
            self._call("move", client.move, [int(ref.uid)], folder)
        else:
            self._call("copy", client.copy, [int(ref.uid)], folder)
            self._call("delete", client.delete_messages, [int(ref.uid)])
            self._call("expunge", client.expunge)

    def mark_processed(self, ref: MessageRef) -> None:
        if self.settings.delete_processed:
            client = self._c()
            self._call("delete", client.delete_messages, [int(ref.uid)])
            if b"UIDPLUS" in self.capabilities:
                self._call("uid expunge", client.uid_expunge, [int(ref.uid)])
            else:
                self._call("expunge", client.expunge)
        else:
            self._move(ref, self.settings.processed_folder)

    def mark_attention(self, ref: MessageRef) -> None:
        self._move(ref, self.settings.attention_folder)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> None:
        """Until the server reports something (IDLE), ``timeout`` passes, or ``stop`` is set."""
        client = self._c()
        stop = stop or threading.Event()
        if b"IDLE" not in self.capabilities:
            stop.wait(min(timeout, self.settings.poll_seconds))
            return
        deadline = time.monotonic() + timeout
        self._call("idle", client.idle)
        try:
            # Short checks, so a shutdown request is honoured within a second or two.
            while not stop.is_set() and time.monotonic() < deadline:
                if self._call(
                    "idle_check", client.idle_check, min(2.0, max(deadline - time.monotonic(), 0.1))
                ):
                    break
        finally:
            self._call("idle_done", client.idle_done)


def open_mailbox(name: str, settings: MailboxSettings) -> Mailbox:
    if settings.kind == "imap":
        return ImapMailbox(name, settings)
    if settings.kind == "maildir":
        return MaildirMailbox(name, settings)
    raise ValueError(f"mailbox {name}: kind must be 'imap' or 'maildir', not {settings.kind!r}")
