"""Background work of interactions: follow-up reminders and purging released attachment files."""

from __future__ import annotations

from crm.interactions.attachments import purge_deleted_files
from crm.interactions.notifications import send_follow_up_reminders
from crm.kit.tasks import scheduled_job

# Notify owners of follow-ups fallen due.
reminders = scheduled_job("reminders", "跟进提醒", "Follow-up reminders")(send_follow_up_reminders)
# Delete attachment files let go by committed erasures.
purge_files = scheduled_job("purge_files", "清理已删除附件", "Purge deleted attachment files")(purge_deleted_files)
