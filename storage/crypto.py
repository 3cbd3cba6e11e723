"""Encryption at rest for what must never be readable in the database: grievance reporters.

Fernet (AES-128-CBC + HMAC-SHA256) from ``cryptography``. The key comes from an
environment variable; for the quick start only, a key file is created beside the
database (mode 0600) and a warning logged, so the embedded defaults still run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)


class CipherError(ValueError):
    pass


class Cipher:
    def __init__(self, key: bytes | str) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise CipherError(
                "the grievance key is not a valid Fernet key (generate one with `assay grievance keygen`)"
            ) from exc

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise CipherError("cannot decrypt: wrong grievance key") from exc

    def encrypt_bytes(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise CipherError("cannot decrypt: wrong grievance key") from exc


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


def load_cipher(env_var: str, key_file: Path | None) -> Cipher:
    """The key from ``$env_var``; else from ``key_file``, created on first use."""
    key = os.environ.get(env_var, "").strip()
    if key:
        return Cipher(key)
    if key_file is None:
        raise CipherError(f"no grievance key: set ${env_var}")
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_key())
        log.warning(
            "no $%s set: created a grievance key in %s (set the variable in production)",
            env_var,
            key_file,
        )
    return Cipher(key_file.read_text().strip())
