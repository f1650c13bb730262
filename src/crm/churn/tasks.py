"""Nightly work of churn: warnings opened, updated and cleared from today's risks."""

from __future__ import annotations

from crm.churn.service import raise_all
from crm.kit.tasks import scheduled_job

churn_warnings = scheduled_job("churn_warnings", "流失预警", "Churn warnings", nightly=True)(raise_all)
