"""Interaction attachments: files kept in a storage directory, described on the interaction.

Limits (size, content types) are settings; a file's type is checked from its first bytes
as well as from what the client claims, so a renamed executable is refused.

Files are stored encrypted under the active key (crm.kit.sealed_files), readable by the
server's user only (files 0600, directories 0700), and bound to their tenant and id. Files
stored in clear by an earlier version still download; ``reseal_files`` (run by
``crm keys rotate``) encrypts them, and moves every file onto the active key.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.config import settings
from crm.interactions.service import MANAGERS, _interaction
from crm.kit import sealed_files
from crm.kit.actor import Actor
from crm.kit.crypto import file_key
from crm.kit.db import utcnow
from crm.kit.errors import Conflict, ErrorCode, NotFound, PermissionDenied, field_invalid
from crm.models import FileDeletion

log = logging.getLogger("crm.attachments")

CHUNK = sealed_files.CHUNK
STORED_NAME = re.compile(r"^[0-9a-f]{32}$")
# Content types accepted, and the leading bytes that prove them (None: text, checked as UTF-8).
SIGNATURES: dict[str, tuple[bytes, ...] | None] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    # Office Open XML files are zip archives.
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (b"PK\x03\x04",),
    "application/zip": (b"PK\x03\x04",),
    "text/plain": None,
    "text/csv": None,
}


def storage_root() -> Path:
    return (
        settings.attachment_dir if settings.attachment_dir.is_absolute() else settings.var_dir / settings.attachment_dir
    )


def _path(tenant_id: int, attachment_id: str) -> Path:
    return storage_root() / str(tenant_id) / attachment_id


def _context(tenant_id: int, attachment_id: str) -> str:
    """What a stored file is bound to: a file moved to another attachment or tenant does not open."""
    return f"attachment:{tenant_id}/{attachment_id}"


def _tenant_directory(tenant_id: int) -> Path:
    root = storage_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory = root / str(tenant_id)
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


def _check_type(content_type: str, head: bytes) -> None:
    if content_type not in SIGNATURES:
        raise field_invalid("file", "type_not_allowed", allowed=", ".join(sorted(SIGNATURES)))
    signatures = SIGNATURES[content_type]
    if signatures is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if len(head) < CHUNK or error.start < len(head) - 4:  # not just a cut multi-byte character
                raise field_invalid("file", "type_mismatch") from error
        return
    if not any(head.startswith(s) for s in signatures):
        raise field_invalid("file", "type_mismatch")


def add_attachment(
    session: Session, actor: Actor, interaction_id: int, *, file_name: str, content_type: str, stream: BinaryIO
) -> dict[str, Any]:
    interaction = _interaction(session, actor, interaction_id, for_update=True)
    if interaction.staff_id != actor.id and actor.role not in MANAGERS:
        raise PermissionDenied()
    if len(interaction.attachments) >= settings.attachment_max_count:
        raise field_invalid("file", "too_many", limit=settings.attachment_max_count)
    name = Path(file_name or "file").name.strip()[:200] or "file"
    content_type = (content_type or "").split(";")[0].strip().lower()
    attachment_id = uuid.uuid4().hex
    target = _tenant_directory(actor.tenant_id) / attachment_id
    digest, size = hashlib.sha256(), 0
    # A refused or failed upload leaves no file behind.
    with sealed_files.create(target, _context(actor.tenant_id, attachment_id)) as out:
        while chunk := stream.read(CHUNK):
            if size == 0:
                _check_type(content_type, chunk)
            size += len(chunk)
            if size > settings.attachment_max_bytes:
                raise field_invalid("file", "too_large", limit=settings.attachment_max_bytes)
            digest.update(chunk)
            out.write(chunk)
        if size == 0:
            raise field_invalid("file", "empty")
    described = {
        "id": attachment_id,
        "file_name": name,
        "content_type": content_type,
        "size_bytes": size,
        "sha256": digest.hexdigest(),
        "uploaded_at": utcnow().isoformat(),
        "uploaded_by": actor.id,
    }
    interaction.attachments = [*interaction.attachments, described]
    session.flush()
    audit.record(
        session,
        "interaction.attach",
        actor=actor,
        object_type="interaction",
        object_id=interaction.id,
        detail={"attachment_id": attachment_id, "size_bytes": size, "content_type": content_type},
    )
    return described


def open_attachment(
    session: Session, actor: Actor, interaction_id: int, attachment_id: str
) -> tuple[dict[str, Any], int, Iterator[bytes]]:
    """The attachment's description, its length and its content, checked whole before any of
    it is sent: a damaged or altered file answers 409, never a download cut off midway."""
    interaction = _interaction(session, actor, interaction_id)
    for described in interaction.attachments:
        if described["id"] == attachment_id:
            path = _path(actor.tenant_id, attachment_id)
            if not path.exists():
                raise NotFound("attachment")
            context = _context(actor.tenant_id, attachment_id)
            try:
                size = sealed_files.size(path, context)
            except sealed_files.SealedFileError as error:
                log.warning("attachment %s of tenant %s does not open: %s", attachment_id, actor.tenant_id, error)
                raise Conflict(ErrorCode.ATTACHMENT_UNREADABLE) from error
            return described, size, sealed_files.read(path, context)
    raise NotFound("attachment")


def remove_files(session: Session, tenant_id: int, attachments: list[dict[str, Any]]) -> None:
    """Queue stored files for deletion once this transaction commits (see purge_deleted_files)."""
    session.add_all(FileDeletion(tenant_id=tenant_id, attachment_id=str(d["id"])) for d in attachments if d.get("id"))


def purge_deleted_files(session: Session, *, batch: int = 1000) -> int:
    """Delete the files whose deletion has committed; a file already gone is fine."""
    done = 0
    while rows := list(session.scalars(select(FileDeletion).order_by(FileDeletion.id).limit(batch))):
        for row in rows:
            _path(row.tenant_id, row.attachment_id).unlink(missing_ok=True)
        session.execute(delete(FileDeletion).where(FileDeletion.id.in_([r.id for r in rows])))
        done += len(rows)
    return done


# ---------------------------------------------------------------- keys (crm keys status / rotate)


def _stored_files() -> Iterator[tuple[Path, str]]:
    root = storage_root()
    if not root.is_dir():
        return
    for directory in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        for path in sorted(directory.iterdir()):
            if STORED_NAME.match(path.name) and path.is_file():
                yield path, _context(int(directory.name), path.name)


DAMAGED = "(damaged)"


def file_key_usage() -> dict[str | None, int]:
    """How many stored files each key id encrypts (None: stored in clear by an earlier version;
    DAMAGED: the header itself is cut short)."""
    usage: dict[str | None, int] = {}
    for path, _ in _stored_files():
        try:
            key = sealed_files.key_id(path)
        except sealed_files.SealedFileError:
            key = DAMAGED
        usage[key] = usage.get(key, 0) + 1
    return usage


def reseal_files() -> tuple[int, list[Path]]:
    """Encrypt every stored file not under the active key (those in clear included) again under
    it, and make the directories private; returns how many were rewritten and those that do not open."""
    active = file_key()[0]
    rewritten, unreadable, private = 0, [], set()
    for path, context in _stored_files():
        if path.parent not in private:
            path.parent.chmod(0o700)
            private.add(path.parent)
        try:
            if sealed_files.key_id(path) == active:
                continue
            sealed_files.reseal(path, context)
        except sealed_files.SealedFileError as error:
            log.warning("attachment file %s does not open: %s", path, error)
            unreadable.append(path)
            continue
        rewritten += 1
    return rewritten, unreadable
