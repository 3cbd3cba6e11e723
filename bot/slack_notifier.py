"""Posts compliance-channel alerts to Slack, draining the outbox, each post once.

Each row is claimed with a lease (status ``sending``) before it is posted, one at a time
and in order, so any number of notifiers on one database post it once and the channel
keeps its order. Every post carries its outbox key in Slack message metadata
(``event_type`` ``assay_outbox``). A row whose last attempt may have reached Slack (its
owner died while it was ``sending``, or the request timed out or lost its connection
after it was sent) is looked up in the channel's history first, and not posted again if
Slack has it.

A Slack outage or a 429 (with its Retry-After) leaves entries pending until their retry
time; none is lost. A permanent refusal (``channel_not_found``, ``invalid_auth``,
``msg_too_long``, ...) is retried a few times, then the row is dead: one ``log.error``
line and one line in the alerts log, never an alert about the alert.

An owner's escalation (:class:`~program.outbox.OwnerEscalationDM`) is a direct message: it is
posted with the owner's user id as the channel (Slack delivers it in the app's DM with them),
never to the compliance channel, with the same claim, retries and look-up; the look-up reads
that DM (``conversations.open``, scope ``im:write``). A user id that is not one is dead at
once; an escalation with no user (a supplier without an owner) goes to the channel.
"""

from __future__ import annotations

import copy
import datetime as dt
import http.client
import json
import logging
import re
import socket
import urllib.error
from dataclasses import dataclass
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from program.outbox import Alert, OwnerEscalationDM, SubmissionDetails, decode_alert
from storage.leases import lease_owner
from storage.models import OutboxRow
from storage.store import Store

from .alerts import render_alert

log = logging.getLogger(__name__)

EVENT_TYPE = "assay_outbox"
USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")  # a Slack user id, the channel of a DM
AMBIGUOUS = "ambiguous"  # last_error prefix: the last attempt may have been posted
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "no_text",
        "too_many_attachments",
        "restricted_action",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
        "cannot_reply_to_message",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "metadata_too_large",
        "ekm_access_denied",
        "team_access_not_granted",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "method_deprecated",
        "deprecated_endpoint",
        "not_allowed_token_type",
        "two_factor_setup_required",
        "enterprise_is_restricted",
        # a direct message to an owner who cannot receive one
        "user_not_found",
        "user_not_visible",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
    }
)


class _ParentPending(Exception):
    """A thread reply whose post is not made yet: try again after it."""


@dataclass(frozen=True)
class SlackDelivery:
    backoff_seconds: float = 30.0  # first retry delay; doubles per attempt, at most 64 times
    permanent_attempts: int = 3  # permanent refusals before the row is dead
    lease_seconds: float = 120.0  # how long a claimed row is ours
    history_pages: int = 10  # conversations.history pages read when looking a post up


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _kind(payload: str) -> str:
    """A row's kind, for a log line ("" when it cannot be read)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    return str(data.get("kind", "")) if isinstance(data, dict) else ""


def _ambiguous(exc: BaseException) -> bool:
    """Could the request have reached Slack? Only a refused connection or a failed name
    look-up certainly did not; a timeout or a dropped connection may have posted."""
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    return not isinstance(reason, ConnectionRefusedError | socket.gaierror)


class SlackAlerts:
    def __init__(
        self,
        store: Store,
        client: WebClient,
        channel: str,
        backoff_seconds: float = 30.0,
        delivery: SlackDelivery | None = None,
        dead_log: Path | None = None,
    ) -> None:
        self.store = store
        # slack_sdk re-sends once on a connection error by default, with no look-up: a
        # duplicate post. This notifier retries itself, after looking the post up; its own
        # shallow copy of the client has no retry handlers (the caller's keeps its own).
        self.client = copy.copy(client)
        self.client.retry_handlers = []
        self.channel = channel
        self.delivery = delivery or SlackDelivery(backoff_seconds=backoff_seconds)
        self.dead_log = dead_log

    def drain(self, limit: int = 100) -> int:
        owner = lease_owner()
        posted = 0
        tried: set[int] = set()
        while len(tried) < limit:
            claimed = self.store.claim_outbox(
                "alert", owner, self.delivery.lease_seconds, in_order=True, skip=tried
            )
            if not claimed:
                break
            row = claimed[0]
            tried.add(row.id)
            outcome = self._one(row, owner)
            if outcome == "stop":
                break  # keep the channel's order: nothing later goes out before this one
            if outcome == "sent":
                posted += 1
        return posted

    def _one(self, row: OutboxRow, owner: str) -> str:
        key = row.dedupe_key
        if row.claimed_from == "sending":
            log.info("alert %s: taking over from a notifier that died while posting", row.id)
        try:
            payload = decode_alert(row.payload)
            channel = self._channel_of(payload)
            thread = self._thread_of(payload)
        except _ParentPending:
            # Not "stop": the post it waits for may come later in the channel's order; and
            # a short, fixed wait (waiting is no failure that should back off).
            wait = self.delivery.backoff_seconds
            self._retry(row, owner, "waiting for the post it belongs under", wait, False)
            return "next"
        except ValueError as exc:
            log.error("alert %s cannot be read (%s)", row.id, type(exc).__name__)
            self._dead(row, owner, f"cannot render: {type(exc).__name__}")
            return "next"
        if row.claimed_from == "sending" or row.last_error.startswith(AMBIGUOUS):
            try:
                found = self.find_posted(key, row.first_attempt_at or "", thread, channel)
            except SlackApiError as exc:
                error = str(exc.response.get("error") or exc.response.status_code)
                if error in PERMANENT_ERRORS or exc.response.status_code == 429:
                    log.warning("slack: cannot look up alert %s (%s); posting it", row.id, error)
                    found = None
                else:
                    return self._failed(row, owner, exc, ambiguous=True)
            except (SlackClientError, OSError, http.client.HTTPException) as exc:
                return self._failed(row, owner, exc, ambiguous=True)
            except Exception as exc:  # an answer we cannot read: look again next time
                log.exception("slack: alert %s: look-up failed", row.id)
                return self._retry(row, owner, f"slack: {type(exc).__name__}", None, True)
            if found is not None:
                log.info("slack: alert %s was already posted (ts %s)", row.id, found)
                self.store.mark_sent(row.id, owner, ref=found)
                return "sent"
        try:
            text = render_alert(payload, slack=True, threaded=bool(thread))
        except Exception as exc:
            log.error("alert %s cannot be rendered (%s)", row.id, type(exc).__name__)
            self._dead(row, owner, f"cannot render: {type(exc).__name__}")
            return "next"
        try:
            resp = self.client.chat_postMessage(
                channel=channel,
                text=text,
                unfurl_links=False,
                unfurl_media=False,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"key": key}},
                thread_ts=thread or None,
            )
        except (SlackClientError, OSError, http.client.HTTPException) as exc:
            return self._failed(row, owner, exc)
        except Exception as exc:  # an answer we cannot read: it may have been posted
            log.exception("slack: alert %s: unexpected failure", row.id)
            return self._retry(row, owner, f"slack: {type(exc).__name__}", None, True)
        if not self.store.mark_sent(row.id, owner, ref=str(resp.get("ts") or "")):
            log.warning("slack: alert %s posted, but our lease had expired", row.id)
        return "sent"

    def _channel_of(self, payload: Alert) -> str:
        """Where the alert goes: the compliance channel, or the owner's DM (their user id;
        an escalation without an owner goes to the channel). ValueError for a user id that
        is not one (the row is dead: a message meant for one person is never posted
        elsewhere)."""
        if isinstance(payload, OwnerEscalationDM) and payload.slack_user:
            if not USER_ID.fullmatch(payload.slack_user):
                raise ValueError("not a Slack user id")
            return payload.slack_user
        return self.channel

    def _thread_of(self, payload: Alert) -> str:
        """The ``ts`` of the post this alert belongs under ("" for a post of its own).

        Raises :class:`_ParentPending` while that post is still to be made; a post that
        was given up, or went to the console, leaves its details as a post of their own.
        """
        parent_key = payload.thread_of if isinstance(payload, SubmissionDetails) else ""
        if not parent_key:
            return ""
        parent = self.store.outbox_by_key(parent_key)
        if parent is None or parent.status == "dead":
            return ""
        if parent.status != "sent":
            raise _ParentPending(parent_key)
        ref = parent.delivered_ref
        return ref if re.fullmatch(r"[0-9]{1,12}\.[0-9]{1,9}", ref) else ""

    def find_posted(self, key: str, since: str, thread: str = "", channel: str = "") -> str | None:
        """The ts of our post carrying ``key`` in its metadata, posted since ``since``
        (a reply in ``thread`` is looked up among that thread's replies), in ``channel``
        (default: the compliance channel; a user id: our DM with that user)."""
        channel = channel or self.channel
        if USER_ID.fullmatch(channel):
            opened = self.client.conversations_open(users=channel)
            channel = str((opened.get("channel") or {}).get("id") or channel)
        oldest = "0"
        if since:
            moment = dt.datetime.fromisoformat(since)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            oldest = f"{moment.timestamp() - 60:.6f}"  # a minute of clock skew
        cursor = None
        for _ in range(self.delivery.history_pages):
            if thread:
                resp = self.client.conversations_replies(
                    channel=channel,
                    ts=thread,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            else:
                resp = self.client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
            for message in resp.get("messages") or []:
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("key") == key
                ):
                    return str(message.get("ts") or "?")
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    def _failed(
        self, row: OutboxRow, owner: str, exc: BaseException, ambiguous: bool = False
    ) -> str:
        attempts = row.attempts + 1
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code
            error = str(exc.response.get("error") or status)
            if status == 429:
                wait = float(exc.response.headers.get("Retry-After", 0) or 0)
                return self._retry(row, owner, f"slack: 429 {error}", wait, ambiguous)
            if error in PERMANENT_ERRORS:
                if attempts >= self.delivery.permanent_attempts:
                    self._dead(row, owner, f"slack: {status} {error}")
                    return "next"
                return self._retry(row, owner, f"slack: {status} {error}", None, ambiguous)
            # Other errors (fatal_error, internal_error, a 5xx): the post may exist.
            return self._retry(
                row, owner, f"slack: {status} {error}", None, ambiguous or status >= 500
            )
        return self._retry(
            row, owner, f"slack: {type(exc).__name__}", None, ambiguous or _ambiguous(exc)
        )

    def _retry(
        self,
        row: OutboxRow,
        owner: str,
        error: str,
        wait: float | None,
        ambiguous: bool,
    ) -> str:
        if wait is None:
            wait = self.delivery.backoff_seconds * 2 ** min(row.attempts, 6)
        retry = _iso(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=max(wait, 1)))
        log.warning("slack post failed (%s); retry at %s", error, retry)
        self.store.mark_failed(
            row.id, f"{AMBIGUOUS}: {error}" if ambiguous else error, retry, owner=owner
        )
        return "stop"

    def _dead(self, row: OutboxRow, owner: str, error: str) -> None:
        """Give up on a post: one log line and one alerts-log line, never another alert."""
        if not self.store.mark_failed(row.id, error, None, owner=owner):
            return
        what = (
            "direct message"
            if '"owner-escalation-dm"' in row.payload
            else "compliance-channel alert"
        )
        line = f"[undeliverable] {what} {row.id} ({row.dedupe_key}) given up after {row.attempts + 1} attempt(s): {error}"
        log.error("%s", line)
        if self.dead_log is not None:
            try:
                self.dead_log.parent.mkdir(parents=True, exist_ok=True)
                with self.dead_log.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
            except OSError:
                log.exception("cannot write the alerts log")
