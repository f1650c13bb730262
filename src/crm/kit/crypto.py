"""Personal data at rest (§9.3): AES-256-GCM field encryption and HMAC blind indexes.

Phones, e-mails, WeChat ids, birthdays and detailed addresses are stored as
``v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``. The key id names the key that
encrypted the value, so keys can rotate: a new key becomes the active one for writes, old
values stay readable while their key is listed, and ``crm keys rotate`` re-encrypts them.
Each value is bound to its column (the column is the associated data), so a ciphertext
copied into another column does not decrypt.

Encrypted values cannot be compared in SQL (every encryption draws a fresh nonce). Exact
lookup, duplicate detection and search use blind indexes instead: HMAC-SHA256 of the
normalised value under a separate key, which a database dump alone cannot reverse.

Keys come from ``CRM_ENCRYPTION_KEYS`` (``id=base64key,…``, 32-byte keys),
``CRM_ENCRYPTION_ACTIVE_KEY`` and ``CRM_BLIND_INDEX_KEY``. Left unset (the embedded mode),
they are generated once into ``var/keys.json`` (mode 0600): back that file up with the
database, because without it the personal data cannot be read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ColumnElement, Dialect, MetaData, Text, func, literal_column, select, text
from sqlalchemy import table as table_clause
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class KeyringError(RuntimeError):
    """Keys are missing, malformed, or do not open a stored value."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A fresh 256-bit key, base64url-encoded, for CRM_ENCRYPTION_KEYS or CRM_BLIND_INDEX_KEY."""
    return _b64(secrets.token_bytes(KEY_BYTES))


def decode_key(text: str, name: str) -> bytes:
    try:
        key = _unb64(text.strip())
    except (binascii.Error, ValueError) as error:
        raise KeyringError(f"{name} is not base64") from error
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{name} must be {KEY_BYTES} bytes (base64 of `crm keys generate`), got {len(key)}")
    return key


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    active: str
    blind_key: bytes
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise KeyringError(f"the active key {self.active!r} is not among the encryption keys")
        for key_id in self.keys:
            if not KEY_ID.match(key_id):
                raise KeyringError(f"key id {key_id!r}: use 1-32 letters, digits, '-' or '_'")
        if self.blind_key in self.keys.values():
            raise KeyringError("the blind-index key must differ from every encryption key")
        self._ciphers.update({key_id: AESGCM(key) for key_id, key in self.keys.items()})

    def encrypt(self, plaintext: str, column: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.active].encrypt(nonce, plaintext.encode(), column.encode())
        return f"{VERSION}.{self.active}.{_b64(nonce + sealed)}"

    def decrypt(self, stored: str, column: str) -> str:
        _version, key_id, body = split(stored)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise KeyringError(f"{column}: encrypted under key {key_id!r}, which is not configured")
        raw = _unb64(body)
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode()).decode()
        except InvalidTag as error:
            raise KeyringError(
                f"{column}: the value does not open with key {key_id!r} (altered or wrong key)"
            ) from error

    @property
    def seal_key(self) -> bytes:
        """The audit trail's sealing key, derived from the blind-index key: like it, never in the
        database and never rotated (old seals must keep verifying)."""
        return hmac.new(self.blind_key, b"crm audit trail seal", hashlib.sha256).digest()

    def blind(self, purpose: str, value: str) -> str:
        """The keyed fingerprint of a normalised value (hex, 128 bits)."""
        digest = hmac.new(self.blind_key, f"{purpose}\x00{value}".encode(), hashlib.sha256)
        return digest.hexdigest()[:32]


def split(stored: str) -> tuple[str, str, str]:
    parts = stored.split(".", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise KeyringError("a stored value is not in the encrypted format; was it written around the application?")
    return parts[0], parts[1], parts[2]


def key_id_of(stored: str) -> str:
    return split(stored)[1]


# ---------------------------------------------------------------- where the keys come from


def _from_environment(keys_text: str, active: str | None, blind_text: str | None) -> Keyring:
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in keys_text.split(","))):
        key_id, sep, encoded = item.partition("=")
        if not sep:
            raise KeyringError("CRM_ENCRYPTION_KEYS: write each key as id=base64key, separated by commas")
        keys[key_id.strip()] = decode_key(encoded, f"CRM_ENCRYPTION_KEYS[{key_id.strip()}]")
    if not keys:
        raise KeyringError("CRM_ENCRYPTION_KEYS lists no key")
    if not blind_text:
        raise KeyringError("CRM_BLIND_INDEX_KEY must be set together with CRM_ENCRYPTION_KEYS")
    return Keyring(keys, active or list(keys)[-1], decode_key(blind_text, "CRM_BLIND_INDEX_KEY"))


def key_file(var_dir: Path) -> Path:
    return var_dir / "keys.json"


def _read_file(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _write_file(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)


def _from_file(path: Path) -> Keyring:
    if not path.exists():
        _write_file(path, {"active": "k1", "keys": {"k1": new_key()}, "blind_index_key": new_key()})
    data = _read_file(path)
    keys = {key_id: decode_key(text, f"{path}: {key_id}") for key_id, text in data["keys"].items()}
    return Keyring(keys, data["active"], decode_key(data["blind_index_key"], f"{path}: blind_index_key"))


def add_file_key(var_dir: Path) -> str:
    """Generate a new key in the embedded key file and make it the active one; returns its id."""
    path = key_file(var_dir)
    _from_file(path)  # creates the file on first use
    data = _read_file(path)
    number = 1 + max(int(k[1:]) for k in data["keys"] if k[1:].isdigit())
    key_id = f"k{number}"
    data["keys"][key_id] = new_key()
    data["active"] = key_id
    _write_file(path, data)
    return key_id


_keyring: Keyring | None = None
_from_key_file = False


def keyring() -> Keyring:
    """The process's keys, loaded once from the settings (or the embedded key file)."""
    global _keyring, _from_key_file  # noqa: PLW0603 - one keyring per process, like the settings it comes from
    if _keyring is None:
        from crm.config import settings  # noqa: PLC0415 - kit modules import settings lazily

        if settings.encryption_keys:
            _keyring = _from_environment(
                settings.encryption_keys, settings.encryption_active_key, settings.blind_index_key
            )
        else:
            _keyring = _from_file(key_file(settings.var_dir))
            _from_key_file = True
    return _keyring


def _open(stored: str, column: str) -> str:
    """Decrypt; a value under a key this process has not loaded yet (`crm keys rotate` ran
    beside a running server on the embedded key file) reloads the key file once."""
    ring = keyring()
    if _from_key_file and key_id_of(stored) not in ring.keys:
        use_keyring(None)
        ring = keyring()
    return ring.decrypt(stored, column)


def file_key(key_id: str | None = None) -> tuple[str, bytes]:
    """The id and raw bytes of ``key_id``, or of the active key, for encrypting files
    (crm.kit.sealed_files); an id this process has not loaded reloads the key file, as _open does."""
    ring = keyring()
    if key_id is None:
        return ring.active, ring.keys[ring.active]
    if _from_key_file and key_id not in ring.keys:
        use_keyring(None)
        ring = keyring()
    if key_id not in ring.keys:
        raise KeyringError(f"encrypted under key {key_id!r}, which is not configured")
    return key_id, ring.keys[key_id]


def use_keyring(ring: Keyring | None) -> None:
    """Replace the process's keys (tests, and `crm keys` after changing the key file); None reloads."""
    global _keyring, _from_key_file
    _keyring, _from_key_file = ring, False


def blind(purpose: str, value: str) -> str:
    return keyring().blind(purpose, value)


# ---------------------------------------------------------------- column types


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; the model sees the clear value.

    Never compare such a column in SQL: use its blind index.
    """

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().encrypt(value, self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _open(value, self.column)


class EncryptedDate(TypeDecorator[date]):
    """A date stored encrypted (as its ISO text)."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: date | None, dialect: Dialect) -> str | None:
        return None if value is None else keyring().encrypt(value.isoformat(), self.column)

    def process_result_value(self, value: str | None, dialect: Dialect) -> date | None:
        return None if value is None else date.fromisoformat(_open(value, self.column))


# ---------------------------------------------------------------- blind indexes of contacts


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def phone_index(phone: str | None) -> str | None:
    """The blind index of a normalised phone (13812345678, 0755-88886666)."""
    return blind("phone", _digits(phone)) if phone else None


def email_index(email: str | None) -> str | None:
    return blind("email", email.strip().lower()) if email else None


# ---------------------------------------------------------------- key rotation


def encrypted_columns(metadata: MetaData) -> dict[str, list[str]]:
    """Every table with encrypted columns, and those columns."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        columns = [c.name for c in table.columns if isinstance(c.type, EncryptedText | EncryptedDate)]
        if columns:
            found[table.name] = columns
    return found


def rotate_keys(session: Session, metadata: MetaData, *, batch: int = 1000) -> dict[str, int]:
    """Re-encrypt every value not under the active key; returns the rows rewritten per table.

    Works in id order, ``batch`` rows at a time, committing each batch, so it can run on a
    live database and be resumed after an interruption. Versions are not bumped: the
    values do not change, only their ciphertext. The blind-index key never rotates here
    (indexes would have to be rebuilt from the clear values).
    """
    ring = keyring()
    rewritten: dict[str, int] = {}
    for table, columns in encrypted_columns(metadata).items():
        rewritten[table] = 0
        read = text(
            f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last ORDER BY id LIMIT :n"  # noqa: S608 - names from the models
        )
        write = text(f"UPDATE {table} SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE id = :id")  # noqa: S608
        last = 0
        while rows := session.execute(read, {"last": last, "n": batch}).all():
            changes = []
            for row in rows:
                values = {c: getattr(row, c) for c in columns}
                stale = {c: v for c, v in values.items() if v is not None and key_id_of(v) != ring.active}
                if stale:
                    values.update(
                        {c: ring.encrypt(ring.decrypt(v, f"{table}.{c}"), f"{table}.{c}") for c, v in stale.items()}
                    )
                    changes.append({"id": row.id, **values})
            if changes:
                session.execute(write, changes)
                rewritten[table] += len(changes)
            session.commit()
            last = rows[-1].id
    return rewritten


def key_usage(session: Session, metadata: MetaData) -> dict[str, int]:
    """How many stored values each key id encrypts (for `crm keys status`)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    usage: dict[str, int] = {}
    for table, columns in encrypted_columns(metadata).items():
        for column in columns:
            value: ColumnElement[str] = literal_column(column)
            # "v1.<key id>.<body>": the text between the first two dots
            key_id = (
                func.split_part(value, ".", 2)
                if postgres
                else func.substr(value, 4, func.instr(func.substr(value, 4), ".") - 1)
            )
            stmt = (
                select(key_id, func.count()).select_from(table_clause(table)).where(value.is_not(None)).group_by(key_id)
            )
            for kid, count in session.execute(stmt):
                usage[kid] = usage.get(kid, 0) + count
    return usage
