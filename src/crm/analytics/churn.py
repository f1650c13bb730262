"""Churn warning (§2.4, §5.2): the rules, the lifecycle stage, the model's score, the warnings.

The flow of §2.4 — 行为监控 → 风险评估 → 预警触发 → 挽回策略 → 执行跟踪 — runs as:

1. monitor: the nightly value refresh (crm.analytics.value) writes each customer's churn
   figures into the day's snapshot: days since the last order and the last staff interaction,
   orders in the history window, spend of the recent window and of the one before, overdue
   receivables;
2. assess: in the same statement, the rules below give a risk (the most severe rule wins, its
   name and the figures stored as the reason), the trained model (crm.analytics.prediction)
   a churn_probability, and the lifecycle stage is derived;
3. trigger: the nightly ``churn_warnings`` job opens a warning for each customer at risk
   without one in work, updates the risk of those already open, and clears untouched ones
   whose risk went away; each owner is notified once per night of their new warnings;
4. strategy: each warning carries the playbook's strategy for the customer's level and risk
   (tenant setting ``churn.playbook``) and a due date (``churn.task_due_days``);
5. follow-up: the owner records retention actions (each also an interaction on the
   timeline) and the outcome, retained or lost (crm.churn).

Rules, with the tenant's thresholds (defaults in brackets), for active customers:

- high ``no_order``: has ordered, no order for ``high_no_order_days`` [90] and at least
  ``high_min_orders`` [3] orders in the ``high_history_days`` [365] before those days;
- high ``overdue_high``: receivables overdue ``overdue_high_days`` [90] or more;
- medium ``quiet_declining``: no staff interaction for ``medium_no_interaction_days`` [60] and
  spend of the last ``spend_window_days`` [90] below the same span before;
- medium ``overdue_medium``: receivables overdue ``overdue_medium_days`` [30] or more;
- low ``quiet``: has ordered and no staff interaction for ``low_no_interaction_days`` [30]
  (spend stable, or falling but not yet quiet long enough for medium).

"No interaction" counts from the latest staff interaction, or from the customer's creation
when there was none. Lifecycle stages, first match wins: prospect (never ordered); churned (no
order for ``churned_after_days`` [180], or a warning closed as lost after the last order);
at_risk (a rule matches); won_back (ordered in the last ``new_customer_days`` [90] after no
order in the ``churned_after_days`` before them, having ordered before that); new (first
order in the last ``new_customer_days``); active.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session

from crm.kit.dialects import floor_int
from crm.models import ChurnModel, LifecycleStage
from crm.tenants.schemas import ChurnRules

RISK_ORDER = {"high": 3, "medium": 2, "low": 1}
RISK_NAMES = {"high": "高风险", "medium": "中风险", "low": "低风险"}


@dataclass(frozen=True)
class Figures:
    """SQL expressions of one customer's churn figures, as the refresh computes them."""

    orders: Any  # counting orders ever
    recency: Any  # days since the last order (null without orders)
    quiet: Any  # days since the last staff interaction (or creation)
    orders_history: Any
    spend_recent: Any  # stored money units
    spend_previous: Any
    overdue_days: Any
    active: Any  # the customer's status is active


def _text(expression: Any, dialect: str) -> ColumnElement[str]:
    return cast(floor_int(expression, dialect), String)


def _checks(figures: Figures, rules: ChurnRules, dialect: str) -> list[tuple[Any, str, str, Any]]:
    """The rules, most severe first: (condition, risk, rule name, reason text) as SQL."""
    f = figures
    recency, quiet = func.coalesce(f.recency, 0), f.quiet
    return [
        (
            and_(f.orders > 0, recency >= rules.high_no_order_days, f.orders_history >= rules.high_min_orders),
            "high",
            "no_order",
            literal("已")
            + _text(recency, dialect)
            + literal(f"天未下单，此前{rules.high_history_days}天内下单")
            + _text(f.orders_history, dialect)
            + literal(
                f"次（规则：{rules.high_no_order_days}天未下单且此前{rules.high_history_days}天"
                f"内至少{rules.high_min_orders}单）"
            ),
        ),
        (
            f.overdue_days >= rules.overdue_high_days,
            "high",
            "overdue_high",
            literal("应收账款已逾期")
            + _text(f.overdue_days, dialect)
            + literal(f"天（规则：逾期≥{rules.overdue_high_days}天）"),
        ),
        (
            and_(quiet >= rules.medium_no_interaction_days, f.spend_recent < f.spend_previous),
            "medium",
            "quiet_declining",
            literal("已")
            + _text(quiet, dialect)
            + literal(f"天未互动，近{rules.spend_window_days}天消费低于此前{rules.spend_window_days}天")
            + literal(f"（规则：{rules.medium_no_interaction_days}天未互动且消费下降）"),
        ),
        (
            f.overdue_days >= rules.overdue_medium_days,
            "medium",
            "overdue_medium",
            literal("应收账款已逾期")
            + _text(f.overdue_days, dialect)
            + literal(f"天（规则：逾期≥{rules.overdue_medium_days}天）"),
        ),
        (
            and_(f.orders > 0, quiet >= rules.low_no_interaction_days),
            "low",
            "quiet",
            literal("已")
            + _text(quiet, dialect)
            + literal(f"天未互动（规则：{rules.low_no_interaction_days}天未互动）"),
        ),
    ]


def matched_rule(figures: Figures, rules: ChurnRules, dialect: str) -> Any:
    """Which rule matches, the most severe first, as SQL: its number from 1, null for none.

    The refresh evaluates this once per customer and derives the risk, the rule's name, the
    reason and the lifecycle stage from the number (outcome): written as four expressions over
    the figures, the same conditions were evaluated four times a row.
    """
    checks = _checks(figures, rules, dialect)
    return case(*((and_(figures.active, when), number) for number, (when, *_) in enumerate(checks, 1)), else_=None)


def outcome(matched: Any, figures: Figures, rules: ChurnRules, dialect: str) -> tuple[Any, Any, Any]:
    """The risk, the rule's name and the reason (zh-CN, with the figures) of the rule numbered
    ``matched`` (matched_rule) as SQL; all null when none matched."""
    checks = _checks(figures, rules, dialect)
    numbered = list(enumerate(checks, 1))
    risk = case(*((matched == number, literal(level)) for number, (_, level, _, _) in numbered), else_=None)
    rule = case(*((matched == number, literal(name)) for number, (_, _, name, _) in numbered), else_=None)
    reason = case(
        *((matched == number, literal(RISK_NAMES[level] + "：") + text) for number, (_, level, _, text) in numbered),
        else_=None,
    )
    return risk, rule, reason


def lifecycle(
    figures: Figures,
    matched: Any,
    *,
    rules: ChurnRules,
    first: Any,
    orders_new: Any,
    orders_gap: Any,
    new_start: Any,
    gap_start: Any,
    lost_since_last_order: Any,
) -> Any:
    """The lifecycle stage as SQL (see the module's definition); ``matched`` is matched_rule's number."""
    return case(
        (figures.orders == 0, LifecycleStage.PROSPECT.value),
        (figures.recency >= rules.churned_after_days, LifecycleStage.CHURNED.value),
        (lost_since_last_order, LifecycleStage.CHURNED.value),
        (matched.is_not(None), LifecycleStage.AT_RISK.value),
        (and_(orders_new > 0, orders_gap == 0, first < gap_start), LifecycleStage.WON_BACK.value),
        (first >= new_start, LifecycleStage.NEW.value),
        else_=LifecycleStage.ACTIVE.value,
    )


# ---------------------------------------------------------------- the model's inputs and score


@dataclass(frozen=True)
class FeatureInputs:
    """SQL expressions the features are built from (money in yuan, times in days)."""

    recency: Any
    orders_12m: Any
    spend_12m: Any
    spend_recent: Any
    spend_previous: Any
    quiet: Any
    interactions_90d: Any
    complaints: Any
    satisfaction: Any
    overdue_amount: Any
    overdue_days: Any
    tenure_months: Any


def _least(value: Any, cap: float) -> Any:
    return case((value > cap, cap), else_=value)


def feature_expressions(i: FeatureInputs) -> dict[str, Any]:
    """Each feature of the churn model as SQL over one customer's figures, capped and scaled so
    that a few extreme customers do not dominate: training reads these columns and scoring
    evaluates them, so the model always sees the same numbers."""
    return {
        "recency_days": _least(func.coalesce(i.recency, 730.0), 730.0),
        "orders_12m": _least(i.orders_12m * 1.0, 100.0),
        "log_spend_12m": func.ln(1.0 + i.spend_12m),
        "spend_trend": (i.spend_recent - i.spend_previous) / (i.spend_recent + i.spend_previous + 1.0),
        "quiet_days": _least(i.quiet, 730.0),
        "interactions_90d": _least(i.interactions_90d * 1.0, 100.0),
        "complaints": _least(i.complaints * 1.0, 20.0),
        "satisfaction": func.coalesce(i.satisfaction * 1.0, 3.0),
        "log_overdue_amount": func.ln(1.0 + i.overdue_amount),
        "overdue_days": _least(i.overdue_days * 1.0, 365.0),
        "tenure_months": _least(i.tenure_months, 120.0),
    }


# The model's feature names, in the order of its coefficients (the keys of feature_expressions).
FEATURES = (
    "recency_days", "orders_12m", "log_spend_12m", "spend_trend", "quiet_days", "interactions_90d",
    "complaints", "satisfaction", "log_overdue_amount", "overdue_days", "tenure_months",
)  # fmt: skip


def current_model(session: Session, tenant_id: int) -> ChurnModel | None:
    """The tenant's latest usable model, or None (the rules alone apply)."""
    latest = session.scalar(
        select(ChurnModel).where(ChurnModel.tenant_id == tenant_id).order_by(ChurnModel.trained_at.desc()).limit(1)
    )
    return latest if latest is not None and latest.usable else None


def score(inputs: FeatureInputs, model: ChurnModel) -> Any:
    """The model's churn probability as SQL: a logistic regression over standardised features."""
    parameters = model.parameters
    expressions = feature_expressions(inputs)
    z: Any = literal(float(parameters["intercept"]))
    for name, mean, scale, weight in zip(
        parameters["features"], parameters["mean"], parameters["scale"], parameters["coef"], strict=True
    ):
        if name not in expressions or not math.isfinite(weight):
            continue
        z = z + (expressions[name] - float(mean)) / float(scale or 1.0) * float(weight)
    # exp() overflows far out; probabilities there are 0 or 1 to four places anyway.
    bounded = case((z > 30.0, 30.0), (z < -30.0, -30.0), else_=z)
    return 1.0 / (1.0 + func.exp(-bounded))
