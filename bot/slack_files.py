"""Fetching a file shared in Slack: the bot token goes only to Slack's own file hosts.

``url_private`` needs the bot token, and a file's URL comes from Slack's ``files.info``: it
is checked anyway, with every redirect, against the origins the token may go to (Slack's file
hosts, HTTPS, and the origin of the configured Web API, which tests point at a stand-in).
A download has a size limit checked while reading and a deadline for the whole transfer.
"""

from __future__ import annotations

import logging
import time
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .slack_app import SlackSettings

log = logging.getLogger(__name__)

#: Hosts Slack serves ``url_private`` files from (commercial Slack and GovSlack), HTTPS only:
#: the bot token is sent to these and to the origin of ``SlackSettings.api_url``, nowhere else.
SLACK_FILE_ORIGINS = frozenset(
    {("https", "files.slack.com", 443), ("https", "files.slack-gov.com", 443)}
)
DOWNLOAD_SECONDS = 120  # a whole download, however slowly the bytes drip in
MAX_REDIRECTS = 3


class DownloadFailed(Exception):
    """A Slack file we could not (or would not) fetch."""


Origin = tuple[str, str, int]


def origin_of(url: str) -> Origin | None:
    """(scheme, host, port) of an http(s) URL without user info; None for anything else
    (spaces and control characters too: urlsplit would drop some, the fetch would not)."""
    if any(c <= " " or c == "\x7f" for c in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def token_origins(settings: SlackSettings) -> frozenset[Origin]:
    """Where the bot token may go: Slack's file hosts, and the configured Web API's origin."""
    api = origin_of(settings.api_url) if settings.api_url else None
    return SLACK_FILE_ORIGINS | ({api} if api else set())


class _RedirectsWithin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to an allowed origin, carrying the token there; any other
    redirect is not followed (urllib then raises an HTTPError with the 3xx status)."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, allowed: frozenset[Origin]) -> None:
        self.allowed = allowed

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        if origin_of(newurl) not in self.allowed:
            log.warning("slack download: refused a redirect to another host")
            return None
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.get_header("Authorization")
        if new is not None and auth:
            new.add_unredirected_header("Authorization", auth)
        return new


def download(
    url: str,
    token: str,
    limit: int,
    allowed: frozenset[Origin] = SLACK_FILE_ORIGINS,
    seconds: float = DOWNLOAD_SECONDS,
) -> bytes:
    """A Slack file's bytes, fetched with the bot token only from ``allowed`` origins."""
    if origin_of(url) not in allowed:
        raise DownloadFailed("not a Slack file host")
    req = urllib.request.Request(url)
    # Unredirected: urllib itself never copies it onto a redirect; _RedirectsWithin does,
    # and only to an allowed origin.
    req.add_unredirected_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_RedirectsWithin(allowed))
    deadline = time.monotonic() + seconds
    chunks, size = [], 0
    with opener.open(req, timeout=30) as resp:
        while chunk := resp.read1(256 * 1024):  # read1: returns what has arrived
            size += len(chunk)
            if size > limit:
                raise DownloadFailed("file too large")
            if time.monotonic() > deadline:
                raise DownloadFailed("download too slow")
            chunks.append(chunk)
    return b"".join(chunks)
