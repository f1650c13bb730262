"""Display masks for personal data: 138****1234, z***@example.com, …"""

from __future__ import annotations

from crm.kit.phones import mask_phone

__all__ = ["mask_address", "mask_email", "mask_phone", "mask_text"]


def mask_email(email: str) -> str:
    local, at, domain = email.partition("@")
    if not at:
        return mask_text(email)
    return f"{local[:1]}***@{domain}"


def mask_text(value: str, keep: int = 1) -> str:
    """Keep the first ``keep`` characters (a WeChat id's first letter), hide the rest."""
    return value[:keep] + "***" if len(value) > keep else "***"


def mask_address(detail: str) -> str:
    """Keep the street-level start of a detailed address, hide the house number and beyond."""
    visible = max(len(detail) // 3, 1)
    return detail[:visible] + "****"
