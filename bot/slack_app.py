"""The Slack app (slack-bolt): ask about a smelter or a supplier, screen a shared template,
and read grievance cases (officers only, ephemeral).

``build_app`` builds the Bolt app, the ``Services`` its listeners share, registers each
listener module of ``bot.listeners`` and one error handler. Listeners are thin: parse the
request, call the store or the screener, render Block Kit.
Each listener thread gets its own Store (sqlite connections belong to their thread).
Bolt verifies every request's signature and refuses timestamps older than five minutes.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from plugins.checks import DEFAULT_CURRENT_VERSIONS
from plugins.pipeline import Screener
from storage.crypto import Cipher
from storage.store import Store

from .listeners import LISTENERS
from .listeners.services import ScreenerPerThread, Services, StorePerThread

log = logging.getLogger(__name__)

#: What the app listens to; the app manifest (bot/manifest.json) must declare exactly these.
COMMANDS: tuple[str, ...] = tuple(m.COMMAND for m in LISTENERS if hasattr(m, "COMMAND"))
EVENTS: tuple[str, ...] = tuple(m.EVENT for m in LISTENERS if hasattr(m, "EVENT"))


@dataclass
class SlackSettings:
    bot_token: str
    signing_secret: str
    channel: str = ""  # the compliance channel (id or name)
    officers: tuple[str, ...] = ()  # user ids allowed to read grievance cases
    workspace_id: str = ""  # supplier names are shown only here (empty: any)
    api_url: str = ""  # Web API base URL; tests point it at a local stand-in
    max_file_bytes: int = 30 * 1024 * 1024
    current_versions: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_CURRENT_VERSIONS)
    )  # [screening.current_versions], for /campaign
    stale_after_days: int = 400  # [campaigns] stale_after_days, for /campaign grades
    extra: dict[str, Any] = field(default_factory=dict)


def on_error(error: Exception, body: dict[str, Any]) -> None:
    """Every listener's uncaught error: logged with its type, never with the request's text."""
    log.error(
        "slack listener failed: %s (%s)", type(error).__name__, body.get("type"), exc_info=error
    )


def build_app(
    settings: SlackSettings,
    store_factory: Callable[[], Store],
    screener_factory: Callable[[Store], Screener],
    cipher: Cipher | None = None,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    today: Callable[[], dt.date] | None = None,
) -> App:
    """The Bolt app; ``listener_executor`` runs the listeners (Bolt's own pool by default)."""
    client = client or WebClient(
        token=settings.bot_token, base_url=settings.api_url or "https://slack.com/api/"
    )
    app = App(
        client=client,
        signing_secret=settings.signing_secret,
        token_verification_enabled=False,
        listener_executor=listener_executor,
    )
    services = Services(
        settings=settings,
        store=StorePerThread(store_factory).get,
        screener=ScreenerPerThread(screener_factory).get,
        cipher=cipher,
        today=today or dt.date.today,
    )
    for listener in LISTENERS:
        listener.register(app, services)
    app.error(on_error)
    return app
