"""Who is delivering an outbox row: a lease owner names its host, process and thread.

A notifier claims a row with a lease; when it dies mid-delivery, another takes the row over
once the lease expires, or at once when the owner ran on this host and its process is gone.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path


def lease_owner() -> str:
    """Who is delivering: ``host:pid.start:thread`` (the start time tells a reused pid apart)."""
    return (
        f"{socket.gethostname()}:{os.getpid()}.{_start_time(os.getpid())}:{threading.get_ident()}"
    )


def _start_time(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_dead(owner: str) -> bool:
    """True only when ``owner`` ran on this host and its process is gone (killed, crashed).

    A lease of another host, or one we cannot judge, is left to expire.
    """
    host, _, rest = owner.partition(":")
    proc, _, _thread = rest.partition(":")
    pid, _, start = proc.partition(".")
    if host != socket.gethostname() or not pid.isdigit() or not start:
        return False
    if not Path("/proc/self/stat").exists():
        return False
    return _start_time(int(pid)) != start
