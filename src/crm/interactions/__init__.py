"""Interactions with customers, follow-ups, reminders and the customer timeline (§3.4, §4.2.2)."""
