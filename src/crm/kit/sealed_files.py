"""Files encrypted at rest (attachments), under the keys of crm.kit.crypto.

A sealed file is a header, then the content in 64 KiB chunks, each encrypted with
AES-256-GCM::

    MAGIC (8) ‖ key id length (1) ‖ key id ‖ salt (16) ‖ chunk size (4, big-endian) ‖ chunks

Each file gets its own key, HKDF-SHA256 of the named master key and the file's random salt,
so a chunk's nonce can be its number and a final flag (the STREAM construction): chunks
cannot be reordered, dropped or cut off at the end unnoticed. Every chunk's associated data
is the header and the caller's context (which file this is), so a file copied over another
does not open either. The key id lets keys rotate: a file opens while its key is configured,
and is written again under the active key by ``reseal``.

Files are read and written a chunk at a time, so memory stays flat whatever their size.
A file that does not start with MAGIC was stored before encryption and is read as it is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crm.kit.crypto import KeyringError, file_key

# Starts with a byte that never begins UTF-8 text nor any file signature attachments accept,
# so no file stored in clear before encryption can be taken for a sealed one.
MAGIC = b"\x93CRMSF1\n"
SALT_BYTES = 16
CHUNK = 64 * 1024
TAG_BYTES = 16
MAX_CHUNK = 16 * 1024 * 1024
_INFO = b"crm sealed file v1"


class SealedFileError(Exception):
    """A sealed file does not open: altered, cut short, or under a key that is not configured."""


def _cipher(master: bytes, salt: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(master))


def _nonce(index: int, *, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class SealingWriter:
    """Encrypts what is written to it into ``out``; ``close`` seals the final chunk."""

    def __init__(self, out: BinaryIO, context: str) -> None:
        key_id, master = file_key()
        salt = os.urandom(SALT_BYTES)
        name = key_id.encode()
        header = MAGIC + bytes([len(name)]) + name + salt + CHUNK.to_bytes(4, "big")
        self._aad = header + context.encode()
        self._cipher = _cipher(master, salt)
        self._out = out
        self._pending = bytearray()
        self._index = 0
        out.write(header)

    def write(self, data: bytes) -> None:
        self._pending += data
        # A full chunk is sealed only once more data follows it: just the last one is final.
        while len(self._pending) > CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]

    def close(self) -> None:
        self._seal(bytes(self._pending), last=True)
        self._pending.clear()

    def _seal(self, chunk: bytes, *, last: bool) -> None:
        self._out.write(self._cipher.encrypt(_nonce(self._index, last=last), chunk, self._aad))
        self._index += 1


@contextmanager
def create(path: Path, context: str) -> Iterator[SealingWriter]:
    """A new file at ``path``, readable by its owner only (0600), written encrypted; removed
    again when the block fails."""
    out = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    try:
        with out:
            os.fchmod(out.fileno(), 0o600)  # whatever the umask
            writer = SealingWriter(out, context)
            yield writer
            writer.close()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _header(handle: BinaryIO) -> tuple[str, bytes, int, bytes] | None:
    """The key id, salt, chunk size and raw header of a sealed file; None for a clear one."""
    magic = handle.read(len(MAGIC))
    if magic != MAGIC:
        return None
    length = handle.read(1)
    name = handle.read(length[0]) if length else b""
    salt = handle.read(SALT_BYTES)
    size = handle.read(4)
    if not length or len(name) != length[0] or len(salt) != SALT_BYTES or len(size) != 4:
        raise SealedFileError("the header is cut short")
    chunk = int.from_bytes(size, "big")
    if not 0 < chunk <= MAX_CHUNK:
        raise SealedFileError("the header names an impossible chunk size")
    return name.decode("ascii", "replace"), salt, chunk, magic + length + name + salt + size


def key_id(path: Path) -> str | None:
    """The id of the key that sealed the file; None for a file stored in clear."""
    with path.open("rb") as handle:
        header = _header(handle)
    return None if header is None else header[0]


def read(path: Path, context: str) -> Iterator[bytes]:
    """The file's content, a chunk at a time; SealedFileError at the first chunk that does not
    open (after the chunks before it: check a file with ``size`` before sending it anywhere)."""
    with path.open("rb") as handle:
        header = _header(handle)
        if header is None:
            handle.seek(0)
            while chunk := handle.read(CHUNK):
                yield chunk
            return
        name, salt, size, raw = header
        try:
            master = file_key(name)[1]
        except KeyringError as error:
            raise SealedFileError(str(error)) from error
        cipher, aad = _cipher(master, salt), raw + context.encode()
        block, index = handle.read(size + TAG_BYTES), 0
        while True:
            following = handle.read(size + TAG_BYTES) if len(block) == size + TAG_BYTES else b""
            try:
                yield cipher.decrypt(_nonce(index, last=not following), block, aad)
            except InvalidTag as error:
                raise SealedFileError(f"chunk {index} does not open: altered, cut short or moved") from error
            if not following:
                return
            block, index = following, index + 1


def size(path: Path, context: str) -> int:
    """The length of the file's content, every chunk checked."""
    return sum(len(chunk) for chunk in read(path, context))


def reseal(path: Path, context: str) -> None:
    """Write the file again under the active key (a clear one: encrypted), replacing it at once."""
    temporary = path.with_name(path.name + ".sealing")
    temporary.unlink(missing_ok=True)
    with create(temporary, context) as writer:
        for chunk in read(path, context):
            writer.write(chunk)
    temporary.replace(path)
