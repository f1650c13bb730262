"""Churn warnings and retention tasks (§2.4, §5.2); the rules and figures are crm.analytics.churn."""
