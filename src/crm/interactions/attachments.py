"""Interaction attachments: files kept in a storage directory, described on the interaction.

Limits (size, content types) are settings; a file's type is checked from its first bytes
as well as from what the client claims, so a renamed executable is refused.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm.audit import service as audit
from crm.config import settings
from crm.interactions.service import MANAGERS, _interaction
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.errors import NotFound, PermissionDenied, field_invalid
from crm.models import FileDeletion

CHUNK = 64 * 1024
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
    target = _path(actor.tenant_id, attachment_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    try:
        with target.open("wb") as out:
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
    except Exception:
        target.unlink(missing_ok=True)  # a refused or failed upload leaves no file behind
        raise
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
) -> tuple[dict[str, Any], Path]:
    interaction = _interaction(session, actor, interaction_id)
    for described in interaction.attachments:
        if described["id"] == attachment_id:
            path = _path(actor.tenant_id, attachment_id)
            if not path.exists():
                raise NotFound("attachment")
            return described, path
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
