"""The Slack app's listeners, one module per command or event.

Each module has a module-level handler that takes Bolt's arguments (``ack``, ``command``,
``event``, ``say``, ``client``, ``body``) plus the app's ``Services``, so a test can call it
directly with mocks, and a ``register(app, services)`` that attaches it to the Bolt app.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    app_mention,
    campaign_command,
    grievance_command,
    message_file,
    smelter_command,
    supplier_command,
)

#: Every listener module, in the order ``build_app`` registers them.
LISTENERS: tuple[ModuleType, ...] = (
    smelter_command,
    supplier_command,
    campaign_command,
    grievance_command,
    app_mention,
    message_file,
)
