"""Prediction (§10.2): the churn model and the evaluation of the potential-value predictor.

Churn model: a logistic regression (scikit-learn) over standardised features of the
customer as of a cutoff day (crm.analytics.churn.FEATURES: recency, orders and spend of the
last 12 months, spend trend, days since the last interaction, interactions of the last 90 days,
complaints, satisfaction, overdue receivables, tenure), computed by the value refresh's own
SQL (``snapshot_select(…, features=True)``). The label: a customer still buying at the cutoff
(an order in the ``horizon`` days before it) churns when they place no order that counts as
spend in the ``horizon`` days after it (the high-risk rule's ``high_no_order_days``, 90 by
default). Customers already silent for the horizon are left out: the rules flag them anyway,
and they would only make the model look better than it is.

Time-based split: the test cutoff is ``horizon`` days before today (its outcome is known
today); the training cutoffs are every 30 days before ``test cutoff − horizon``, back to 6
months after the first order, so no training label looks past the test cutoff. The ROC AUC
of the model and of the rules alone (risk high 3, medium 2, low 1, none 0, from the same rows)
on the test cutoff are stored with the model. A model is used for scoring only when there
was enough history (at least MIN_ROWS training rows with MIN_CLASS of each outcome, and a
test cutoff with both) and it beats chance on the test cutoff; otherwise the rules alone
apply and ``GET /churn_model`` says so. Scoring is SQL (crm.analytics.churn.score), in the
nightly refresh, from the stored coefficients: no pickled objects are ever loaded.

Potential value (grading's predicted 12-month value) is the run rate of the last 6 months (2 ×
their spend, crm.analytics.value). It is evaluated the same way: predicted at the cutoff a
year ago against the spend of the 12 months after it, as mean absolute error in yuan, beside
the naive baseline "the next 12 months repeat the last 12".
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from crm.analytics import churn, schemas, value
from crm.kit.clock import business_today
from crm.kit.dialects import money_unit
from crm.kit.errors import NotFound
from crm.models import NOT_SPENT, ChurnModel, CustomerOrder, Tenant
from crm.tenants.service import settings_of

ALGORITHM = "logistic_regression"
MIN_ROWS = 200
MIN_CLASS = 20
STEP_DAYS = 30
WARM_UP_DAYS = 182


def _future_orders(session: Session, tenant: Tenant, cutoff: date, days: int) -> dict[int, tuple[int, float]]:
    """Per customer: orders that count as spend, and their amount, in the ``days`` after ``cutoff``."""
    start = value.end_of(cutoff, tenant)
    unit = money_unit(session.get_bind().dialect.name)
    rows = session.execute(
        select(CustomerOrder.customer_id, func.count(), func.sum(CustomerOrder.amount))
        .where(
            CustomerOrder.tenant_id == tenant.id,
            CustomerOrder.status.not_in(NOT_SPENT),
            and_(CustomerOrder.order_date >= start, CustomerOrder.order_date < start + timedelta(days=days)),
        )
        .group_by(CustomerOrder.customer_id)
    )
    return {int(c): (int(n), float(amount or 0) / unit) for c, n, amount in rows}


def _rows(session: Session, tenant: Tenant, cutoff: date) -> list[Any]:
    return list(session.execute(value.snapshot_select(session, tenant, cutoff, features=True)).mappings())


def _labelled(session: Session, tenant: Tenant, cutoff: date, horizon: int) -> tuple[Any, Any, Any]:
    """Features, labels (1: churned) and rule scores of the customers active at ``cutoff``."""
    future = _future_orders(session, tenant, cutoff, horizon)
    features, labels, rules = [], [], []
    for row in _rows(session, tenant, cutoff):
        # Customers still buying: one who has not ordered for the horizon already is the rules'
        # easy case (high risk), not a prediction.
        if not row["total_orders"] or row["recency_days"] is None or row["recency_days"] >= horizon:
            continue
        features.append([float(row[f"f_{name}"]) for name in churn.FEATURES])
        labels.append(0 if future.get(row["customer_id"], (0, 0.0))[0] else 1)
        rules.append(churn.RISK_ORDER.get(row["churn_risk"] or "", 0))
    return (
        np.array(features, dtype=float).reshape(-1, len(churn.FEATURES)),
        np.array(labels, dtype=int),
        np.array(rules, dtype=float),
    )


def _first_order_day(session: Session, tenant: Tenant) -> date | None:
    first = session.scalar(
        select(func.min(CustomerOrder.order_date)).where(
            CustomerOrder.tenant_id == tenant.id, CustomerOrder.status.not_in(NOT_SPENT)
        )
    )
    return first.date() if first is not None else None


def _auc(labels: Any, scores: Any) -> float | None:
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415 - see train()

    if len(set(labels.tolist())) < 2:
        return None
    return round(float(roc_auc_score(labels, scores)), 4)


def evaluate_potential_value(session: Session, tenant: Tenant, today: date) -> dict[str, Any]:
    """The potential-value predictor and the naive baseline, a year back, against what happened."""
    cutoff = today - timedelta(days=365)
    unit = money_unit(session.get_bind().dialect.name)
    actual = _future_orders(session, tenant, cutoff, 365)
    errors, baseline, spent = [], [], []
    for row in _rows(session, tenant, cutoff):
        if not row["total_orders"]:
            continue
        happened = actual.get(row["customer_id"], (0, 0.0))[1]
        errors.append(abs(float(row["potential_value"] or 0) / unit - happened))
        baseline.append(abs(float(row["annual_spend"] or 0) / unit - happened))
        spent.append(happened)
    if not errors:
        return {"cutoff": cutoff.isoformat(), "customers": 0, "message": "一年前尚无订单，无法评估"}
    total = sum(spent) or 1.0
    return {
        "predictor": "2 × spend of the last 6 months",
        "cutoff": cutoff.isoformat(),
        "customers": len(errors),
        "mae": round(sum(errors) / len(errors), 2),
        "baseline": "spend of the last 12 months",
        "baseline_mae": round(sum(baseline) / len(baseline), 2),
        "wape": round(sum(errors) / total, 4),
        "baseline_wape": round(sum(baseline) / total, 4),
    }


def train(session: Session, tenant_id: int, *, trained_by: int | None = None, today: date | None = None) -> ChurnModel:
    """Train, evaluate and store the tenant's churn model (usable or not: the metrics say why)."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    today = today or business_today(tenant.timezone or "Asia/Shanghai")
    horizon = settings_of(tenant).churn.high_no_order_days
    test_cutoff = today - timedelta(days=horizon)
    first = _first_order_day(session, tenant)
    metrics: dict[str, Any] = {"horizon_days": horizon, "test_cutoff": test_cutoff.isoformat()}
    cutoffs: list[date] = []
    if first is not None:
        cutoff = test_cutoff - timedelta(days=horizon)
        while cutoff >= first + timedelta(days=WARM_UP_DAYS):
            cutoffs.append(cutoff)
            cutoff -= timedelta(days=STEP_DAYS)
    metrics["train_cutoffs"] = [c.isoformat() for c in sorted(cutoffs)]
    parts = [_labelled(session, tenant, c, horizon) for c in cutoffs]
    x_train = np.vstack([p[0] for p in parts]) if parts else np.zeros((0, len(churn.FEATURES)))
    y_train = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=int)
    x_test, y_test, rules_test = _labelled(session, tenant, test_cutoff, horizon)
    churned = int(y_train.sum())
    metrics.update(
        train_rows=len(y_train), train_churned=churned, test_rows=len(y_test), test_churned=int(y_test.sum())
    )
    metrics["potential_value"] = evaluate_potential_value(session, tenant, today)
    parameters: dict[str, Any] = {}
    usable = False
    enough = len(y_train) >= MIN_ROWS and min(churned, len(y_train) - churned) >= MIN_CLASS
    if not enough:
        metrics["message"] = f"历史数据不足（需要至少{MIN_ROWS}个样本、每类至少{MIN_CLASS}个），仅按规则预警"
    elif len(set(y_test.tolist())) < 2:
        metrics["message"] = "测试期的客户没有两类结果，无法评估，仅按规则预警"
    else:
        # scikit-learn is imported by training alone: at module level it added seconds to the
        # start of every API worker, which never trains.
        from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
        from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

        scaler = StandardScaler().fit(x_train)
        model = LogisticRegression(max_iter=2000).fit(scaler.transform(x_train), y_train)
        predicted = model.predict_proba(scaler.transform(x_test))[:, 1]
        auc_model, auc_rules = _auc(y_test, predicted), _auc(y_test, rules_test)
        metrics.update(auc_model=auc_model, auc_rules=auc_rules)
        usable = auc_model is not None and auc_model > 0.55
        metrics["message"] = (
            f"模型测试期 ROC AUC {auc_model}，规则 {auc_rules}"
            if usable
            else f"模型在测试期不优于随机（ROC AUC {auc_model}），仅按规则预警"
        )
        parameters = {
            "features": list(churn.FEATURES),
            "mean": [float(v) for v in scaler.mean_],
            "scale": [float(v) if v > 0 else 1.0 for v in scaler.scale_],
            "coef": [float(v) for v in model.coef_[0]],
            "intercept": float(model.intercept_[0]),
        }
    stored = ChurnModel(
        tenant_id=tenant.id,
        algorithm=ALGORITHM,
        usable=usable,
        parameters=parameters,
        metrics=metrics,
        trained_by=trained_by,
    )
    session.add(stored)
    session.flush()
    return stored


def status(session: Session, tenant_id: int) -> schemas.ChurnModelStatus:
    latest = session.scalar(
        select(ChurnModel).where(ChurnModel.tenant_id == tenant_id).order_by(ChurnModel.trained_at.desc()).limit(1)
    )
    if latest is None:
        return schemas.ChurnModelStatus(
            basis="rules", message="尚未训练流失模型，仅按规则预警", trained_at=None, algorithm=None, metrics={}
        )
    return schemas.ChurnModelStatus(
        basis="model" if latest.usable else "rules",
        message=str(latest.metrics.get("message", "")),
        trained_at=latest.trained_at,
        algorithm=latest.algorithm,
        metrics=latest.metrics,
    )
