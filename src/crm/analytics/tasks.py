"""Nightly work of the analysis: value figures, levels and snapshot thinning (chained in crm.jobs)."""

from __future__ import annotations

from crm.analytics.grading import regrade_all
from crm.analytics.retention import thin_all
from crm.analytics.value import refresh_all
from crm.kit.tasks import scheduled_job

# Today's figures, churn risk, model score and lifecycle stage, set-based.
value_refresh = scheduled_job("value_refresh", "客户价值刷新", "Customer value refresh", nightly=True)(refresh_all)
# Levels by the rules from today's analysis; manual levels kept.
regrade = scheduled_job("regrade", "客户等级重评", "Customer regrading", nightly=True)(regrade_all)
# Daily snapshots past the tenant's window thinned to one per customer and month.
thin_snapshots = scheduled_job("thin_snapshots", "快照精简", "Snapshot thinning", nightly=True)(thin_all)
