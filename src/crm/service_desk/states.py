"""The ticket status machine (§3.7): which action moves a ticket from which status to which.

    open ──start──▶ in_progress ──resolve──▶ resolved ──close──▶ closed
      │                  │                       │
      └──cancel──▶ cancelled ◀──cancel──┘        └──reopen (within the window)──▶ in_progress

Any other move answers 409 and changes nothing.
"""

from __future__ import annotations

from enum import StrEnum

from crm.kit.errors import Conflict, ErrorCode
from crm.models.service_desk import TicketStatus


class Action(StrEnum):
    START = "start"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"


TRANSITIONS: dict[Action, tuple[frozenset[TicketStatus], TicketStatus]] = {
    Action.START: (frozenset({TicketStatus.OPEN}), TicketStatus.IN_PROGRESS),
    Action.RESOLVE: (frozenset({TicketStatus.IN_PROGRESS}), TicketStatus.RESOLVED),
    Action.CLOSE: (frozenset({TicketStatus.RESOLVED}), TicketStatus.CLOSED),
    Action.REOPEN: (frozenset({TicketStatus.RESOLVED}), TicketStatus.IN_PROGRESS),
    Action.CANCEL: (frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS}), TicketStatus.CANCELLED),
}
# Open work: counted for workload, escalated when late, editable.
ACTIVE = frozenset({TicketStatus.OPEN, TicketStatus.IN_PROGRESS})


def next_status(action: Action, current: TicketStatus) -> TicketStatus:
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise Conflict(ErrorCode.INVALID_TRANSITION, params={"action": action.value, "status": current.value})
    return target
