"""What a screening reply needs from the store, gathered before it is rendered.

The outbox entry names each file by its sha256; the store keeps every screened file by that
hash (content-addressed), so what is gathered here is what the intake saw. For each file:
its stored result (:class:`bot.reply_view.Screening`), the previous file it is compared with,
and, when ``[mail] return_workbook`` is on, a copy of the workbook marked up with its
findings (made in a sandboxed child: the file is the sender's).
"""

from __future__ import annotations

import base64
import functools
import json
import logging
from collections.abc import Mapping
from typing import Any

from plugins.models import Declaration, Finding
from plugins.sandbox import run_isolated
from plugins.workbook import FileProblem, Limits
from program.outbox import ScreeningReply
from reports.markup import MarkupError, mark_up, marked_up_name
from storage.store import Store

from .reply_view import EarlierFile, FileFacts, ReplyFacts, Screening

log = logging.getLogger(__name__)

MAX_RETURNED = 10  # marked-up workbooks attached to one reply
# Their total size: base64 adds a third, and mail servers commonly refuse 25 MB messages.
MAX_RETURNED_BYTES = 14 * 1024 * 1024


def reply_facts(
    reply: ScreeningReply, store: Store, attached: Mapping[str, str] | None = None
) -> ReplyFacts:
    """Everything :func:`bot.email_render.render_screening_reply` needs for ``reply``.

    ``attached`` maps a file's sha256 to the name of its marked-up copy in the same e-mail.
    """
    attached = attached or {}
    files = []
    for f in reply.files:
        sub = store.submission(f.sha256)
        earlier = None
        if sub is not None and f.previous is not None:
            old = store.submission(f.previous.sha256)
            if old is not None:
                date = f.previous.date or str(old.get("first_seen") or "")
                earlier = EarlierFile(_screening(old, store.findings(old["sha256"])), date)
        files.append(
            FileFacts(
                filename=f.filename,
                origin=f.origin,
                screening=None if sub is None else _screening(sub, store.findings(f.sha256)),
                earlier=earlier,
                attachment=attached.get(f.sha256, ""),
            )
        )
    return ReplyFacts(tuple(files), reply.notes)


def _screening(sub: dict[str, Any], findings: list[Finding]) -> Screening:
    raw = sub.get("declaration_json")
    return Screening(
        readable=bool(sub.get("readable")),
        findings=tuple(findings),
        declaration=Declaration.from_dict(json.loads(raw)) if raw else None,
        template_type=str(sub.get("template_type") or ""),
        template_version=str(sub.get("template_version") or ""),
        company_name=str(sub.get("company_name") or ""),
    )


def marked_up(reply: ScreeningReply, store: Store, limits: Limits) -> list[tuple[str, str, bytes]]:
    """(sha256, file name, bytes) of each readable file of a reply, marked up with its
    findings, in a sandboxed child; a file that cannot be marked up is simply not attached,
    and the reply says nothing about an attachment for it."""
    out: list[tuple[str, str, bytes]] = []
    total = 0
    for f in reply.files[:MAX_RETURNED]:
        sha = f.sha256
        sub = store.submission(sha)
        data = store.original(sha) if sub and sub.get("readable") else None
        if data is None:
            continue
        findings = store.findings(sha)
        title = str(sub.get("company_name") or "") if sub else ""
        try:
            encoded = run_isolated(
                functools.partial(_mark_up_b64, findings=findings, title=title, limits=limits),
                data,
                limits,
            )
            marked = base64.b64decode(encoded)
        except FileProblem as exc:
            log.info("not returning a marked-up copy of %s…: %s", sha[:12], exc.code)
            continue
        if total + len(marked) > MAX_RETURNED_BYTES:
            continue
        total += len(marked)
        out.append((sha, marked_up_name(f.filename or "workbook.xlsx"), marked))
    return out


def _mark_up_b64(data: bytes, *, findings: list[Finding], title: str, limits: Limits) -> str:
    """:func:`reports.markup.mark_up` as the sandbox wants it: JSON out (base64 text), and a
    file that cannot be marked up is the sender's problem, not a crash."""
    try:
        return base64.b64encode(mark_up(data, findings, title=title, limits=limits)).decode()
    except MarkupError as exc:
        raise FileProblem("unreadable-file", str(exc)) from exc
