"""Background work of the service desk: SLA escalation and the assignment queue."""

from __future__ import annotations

from crm.kit.tasks import scheduled_job
from crm.service_desk.assignment import assign_queue as assign_waiting
from crm.service_desk.service import escalate_breached

# Escalate urgent and high tickets past their SLA.
escalations = scheduled_job("escalations", "工单超时升级", "SLA escalations")(escalate_breached)
# Give waiting tickets to agents who now have room.
assign_queue = scheduled_job("assign_queue", "工单排队分配", "Ticket assignment queue")(assign_waiting)
