"""Secrets kept at rest sealed: webhook signing secrets and the units' robot secrets.

A webhook or DingTalk robot secret signs what is sent (HMAC needs the secret
itself, so a hash will not do); stored in clear, it would be readable by
anyone holding a database dump or backup. It is stored sealed with Fernet
(AES-128-CBC and HMAC-SHA256, the `cryptography` package) under keys that
live outside the database: ``KB_SECRETS_KEY`` (service.config), or a key file
made on the host's first start.

Several keys may be given: the first seals, every one opens, so a key is
changed by putting the new one first, running ``kb reseal-secrets`` and then
dropping the old one.
"""
from __future__ import annotations

import os
import secrets as _secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["SecretBox", "SecretUnreadable", "kept_key", "new_key"]


class SecretUnreadable(Exception):
    """A sealed secret none of the configured keys opens (the key changed, or the value is not sealed)."""


def new_key() -> str:
    """A fresh sealing key, in the form KB_SECRETS_KEY takes (URL-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode("ascii")


class SecretBox:
    """Seals and opens secrets with a list of keys: the first seals, every one opens."""

    def __init__(self, keys: Sequence[str]):
        keys = [key.strip() for key in keys if key.strip()]
        if not keys:
            raise ValueError("KB_SECRETS_KEY: at least one key is needed")
        try:
            self._fernet = MultiFernet([Fernet(key.encode("ascii")) for key in keys])
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError("KB_SECRETS_KEY: each key is 32 bytes in URL-safe base64 "
                             "(make one with `kb new-secrets-key`)") from exc

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        """From KB_SECRETS_KEY's form: keys separated by commas, the sealing one first."""
        return cls(value.split(","))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable("a stored secret cannot be opened with KB_SECRETS_KEY "
                                   "(the key it was sealed with is not among the keys)") from exc

    def reseal(self, sealed: str) -> str:
        """The same secret sealed with the first key (for a key change)."""
        try:
            return self._fernet.rotate(sealed.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable("a stored secret cannot be opened with KB_SECRETS_KEY") from exc


def kept_key(path: Path, make: Callable[[], str]) -> str:
    """The key kept in the file `path`, made with `make` (mode 0600) when the file does not exist yet.

    Written whole to a temporary file, then linked into place: of several processes starting together
    one key wins, and nobody reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{_secrets.token_hex(4)}")
        temporary.write_text(make(), encoding="ascii")
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text(encoding="ascii").strip()
