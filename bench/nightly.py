"""The nightly jobs at scale: the value refresh and what follows it, over millions of orders.

    .venv/bin/python -m bench.nightly [--customers 1000000] [--orders 10000000] [--requests 200] [--hold]

1. starts a throwaway PostgreSQL (tests.servers), migrates it, creates a tenant, its admin and
   ~50 sales reps and loads the customers with bench.customers' loader;
2. loads interactions with bench.interactions' loader (one per customer by default), then
   orders, service tickets and receivables, each by one ``INSERT … SELECT`` over
   ``generate_series`` with the secondary indexes dropped first and rebuilt from their
   catalogued definitions after; then ``VACUUM ANALYZE``;
3. times the bare aggregate the refresh cannot beat,
   ``SELECT customer_id, count(*), sum(amount) FROM customer_orders GROUP BY customer_id``:
   once to warm, then three times, the median. It is run inside
   ``SELECT count(*), sum(n), sum(total) FROM (…) s`` so that the server computes every group
   but sends one row: the client's transfer of a million rows is not measured (and the outer
   sums keep PostgreSQL from dropping the unused aggregates of the subquery);
4. runs every job of ``crm.jobs.NIGHTLY``, in its order, with ``crm.jobs.run_job`` exactly as
   the scheduler does, timing each; records the benchmark process's peak RSS and
   PostgreSQL's temporary-file bytes (pg_stat_database.temp_bytes) over the jobs;
5. reports the total and the value refresh alone against the targets (under 60 s, and at most
   3× the bare aggregate);
6. starts ``crm serve --workers 2``, signs in as the admin and times
   ``POST /customers/{id}/value_analysis/refresh`` for random customers with orders
   (sequential requests; target p95 < 50 ms);
7. prints the figures and writes bench/results/nightly.json.

Data shape: orders are spread over the last 24 months in order-number order (as an order
system issues them), over 85 % of the customers with a skew (a few customers have thousands of
orders, most a handful; 15 % none), amounts log-uniform between 100 and 200,000 yuan, a known
cost of 60–85 % of the amount on 80 % of them; 3 % cancelled and 2 % refunded. One ticket per
five customers (10 % complaints, a third of the answered ones rated), one receivable per ten
(a quarter overdue).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from sqlalchemy import func, select
from tests.servers import exit_on_sigterm, postgres_server

from bench.customers import (
    CONTACTS_PER_CUSTOMER,
    PG_CONF,
    Generator,
    Pools,
    _prepare,
    api_server,
    conninfo,
    create_users,
    load,
    login,
    percentile,
    secondary_indexes,
)
from bench.interactions import _build, load_interactions
from crm import jobs
from crm.analytics import value
from crm.kit.clock import business_today
from crm.kit.db import make_engine, make_session_factory
from crm.kit.dialects import planner_methods
from crm.kit.migrate import upgrade
from crm.models import Tenant
from crm.tenants.service import settings_of

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "nightly.json"
TARGET_TOTAL_S = 60.0
TARGET_RATIO = 3.0
TARGET_REFRESH_P95_MS = 50.0
BARE_RUNS = 3
JOBS_APPLICATION = "bench-nightly-jobs"

BUYER_SHARE = 0.85  # customers with at least one order (nearly all of them; see the skew)
# Orders fall on buyer rank floor(buyers × u^SKEW): the expected orders of the buyer at rank
# share x is ∝ x^(1/SKEW − 1), so the first ranks have thousands, the last a few.
ORDER_SKEW = 2.0
TICKET_SKEW = 2.0
# Ranks are scattered over customer ids by multiplying with a prime no customer count reaches
# (a bijection modulo the count), so the big buyers are not the first ids.
SCATTER = 2_147_483_647
HISTORY = timedelta(days=730)  # orders of the last 24 months
TICKETS_PER_CUSTOMER = 0.2
RECEIVABLES_PER_CUSTOMER = 0.1

SUBJECTS = {
    "consultation": ["咨询产品报价", "咨询发票开具", "咨询交货周期"],
    "complaint": ["投诉发货延迟", "投诉产品质量", "投诉服务态度"],
    "technical_support": ["系统无法登录", "设备安装调试", "接口对接问题"],
    "after_sales": ["申请退换货", "申请上门维修", "配件更换"],
    "other": ["资料更新", "合同盖章", "其他事项"],
}
RESOLUTIONS = ("已电话回复客户", "已安排工程师上门处理", "已补发货品", "已退款并致歉", "已远程协助解决")


# ---------------------------------------------------------------- bulk load

# A uniform number in [0, 1) from the row number g and a salt, as SQL: 52 bits of a seeded hash.
# Each salt gives an independent stream; the seed makes the data repeatable.
UNIFORM = "((hashint8extended(g, %(seed)s + {salt}) & 4503599627370495)::float8 / 4503599627370496.0)"


def _uniforms(*names: str) -> str:
    return ", ".join(UNIFORM.format(salt=salt) + f" AS {name}" for salt, name in enumerate(names, 1))


def _customer(rank: str) -> str:
    """The customer id of a rank expression in [0, customers)."""
    return f"(1 + ({rank}::bigint * {SCATTER}) %% %(customers)s)"


ORDERS_SQL = f"""
INSERT INTO customer_orders (
    id, tenant_id, customer_id, order_no, status, order_date, amount, cost, currency,
    source_updated_at, status_changed_at, version, created_at, updated_at)
SELECT g, %(tenant)s, {_customer("floor(%(buyers)s * power(r.who, %(skew)s))")},
       'B' || lpad(g::text, 10, '0'),
       CASE WHEN r.state < 0.03 THEN 'cancelled' WHEN r.state < 0.05 THEN 'refunded'
            WHEN r.state < 0.06 THEN 'created' WHEN r.state < 0.16 THEN 'paid'
            WHEN r.state < 0.30 THEN 'shipped' ELSE 'completed' END,
       m.moment, m.amount,
       CASE WHEN r.costed < 0.8 THEN round(m.amount * (0.60 + 0.25 * r.margin)::numeric, 2) END,
       'CNY', m.moment, m.moment, 1, m.moment, m.moment
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (SELECT {_uniforms("who", "size", "state", "costed", "margin", "jitter")}) AS r
CROSS JOIN LATERAL (
    SELECT round((100 * exp(ln(2000) * r.size))::numeric, 2) AS amount,
           %(start)s::timestamptz + (g - 1 + r.jitter) / %(total)s * interval '730 days' AS moment
) AS m
"""  # noqa: S608 - only the constant fragments above are interpolated

TICKETS_SQL = f"""
INSERT INTO customer_service_records (
    tenant_id, customer_id, contact_id, service_type, priority, status, subject, description, resolution,
    assigned_staff_id, created_date, first_response_date, resolved_date, closed_date, cancelled_date,
    satisfaction_rating, satisfaction_feedback, escalated, tags, reopened_count, first_response_seconds,
    resolution_seconds, created_by, version, created_at, updated_at)
SELECT %(tenant)s, c.id, (c.id - 1) * %(contacts)s + 1, k.kind, k.priority, k.status,
       (%(subjects)s::text[])[1 + k.kind_index * 3 + (g %% 3)],
       '客户来电：' || (%(subjects)s::text[])[1 + k.kind_index * 3 + (g %% 3)] || '，请尽快处理',
       CASE WHEN k.status IN ('resolved', 'closed') THEN (%(resolutions)s::text[])[1 + (g %% 5)] END,
       CASE WHEN k.status <> 'open' THEN %(admin)s END,
       t.created, t.responded, t.resolved, t.closed, t.cancelled,
       CASE WHEN t.resolved IS NOT NULL AND r.rated < 0.35 THEN
            CASE WHEN r.rating < 0.05 THEN 1 WHEN r.rating < 0.10 THEN 2 WHEN r.rating < 0.25 THEN 3
                 WHEN r.rating < 0.55 THEN 4 ELSE 5 END END,
       NULL, false, '[]', 0,
       round(extract(epoch FROM t.responded - t.created))::int,
       round(extract(epoch FROM t.resolved - t.created))::int,
       %(admin)s, 1, t.created, coalesce(t.closed, t.resolved, t.cancelled, t.responded, t.created)
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (SELECT {_uniforms("who", "kind", "urgency", "state", "age", "took", "rated", "rating")}) AS r
CROSS JOIN LATERAL (
    SELECT CASE WHEN r.kind < 0.10 THEN 'complaint' WHEN r.kind < 0.40 THEN 'consultation'
                WHEN r.kind < 0.70 THEN 'technical_support' WHEN r.kind < 0.92 THEN 'after_sales'
                ELSE 'other' END AS kind,
           CASE WHEN r.kind < 0.10 THEN 1 WHEN r.kind < 0.40 THEN 0 WHEN r.kind < 0.70 THEN 2
                WHEN r.kind < 0.92 THEN 3 ELSE 4 END AS kind_index,
           CASE WHEN r.urgency < 0.20 THEN 'low' WHEN r.urgency < 0.75 THEN 'medium'
                WHEN r.urgency < 0.95 THEN 'high' ELSE 'urgent' END AS priority,
           CASE WHEN r.state < 0.03 THEN 'cancelled' WHEN r.state < 0.05 THEN 'open'
                WHEN r.state < 0.08 THEN 'in_progress' WHEN r.state < 0.25 THEN 'resolved'
                ELSE 'closed' END AS status
) AS k
CROSS JOIN LATERAL (
    -- Open work is recent; the rest spread over two years.
    SELECT now() - r.age * CASE WHEN k.status IN ('open', 'in_progress') THEN interval '7 days'
                                ELSE interval '730 days' END AS created
) AS c0
CROSS JOIN LATERAL (
    SELECT c0.created,
           CASE WHEN k.status NOT IN ('open', 'cancelled')
                THEN c0.created + (10 + r.took * 240) * interval '1 minute' END AS responded,
           CASE WHEN k.status IN ('resolved', 'closed')
                THEN c0.created + (1 + r.took * 72) * interval '1 hour' END AS resolved,
           CASE WHEN k.status = 'closed' THEN c0.created + (1 + r.took * 72) * interval '1 hour'
                + interval '3 days' END AS closed,
           CASE WHEN k.status = 'cancelled' THEN c0.created + interval '1 hour' END AS cancelled
) AS t
CROSS JOIN LATERAL (SELECT {_customer("floor(%(customers)s * power(r.who, %(skew)s))")} AS id) AS c
"""  # noqa: S608 - only the constant fragments above are interpolated

RECEIVABLES_SQL = f"""
INSERT INTO customer_receivables (
    tenant_id, customer_id, reference, amount_due, due_date, overdue_days, reported_at, created_at, updated_at)
SELECT %(tenant)s, {_customer("floor(%(buyers)s * r.who)")}, 'AR' || lpad(g::text, 10, '0'),
       CASE WHEN r.state < 0.10 THEN 0 ELSE round((1000 * exp(ln(500) * r.size))::numeric, 2) END,
       d.due, CASE WHEN r.state >= 0.10 AND d.due < current_date THEN current_date - d.due ELSE 0 END,
       now(), now() - interval '30 days', now()
FROM generate_series(1, %(total)s) AS g
CROSS JOIN LATERAL (SELECT {_uniforms("who", "size", "state", "days")}) AS r
CROSS JOIN LATERAL (
    -- A tenth settled (amount 0, due in the past), a quarter overdue by 1–180 days, the rest not due yet.
    SELECT CASE WHEN r.state < 0.35 THEN current_date - (1 + floor(r.days * 180))::int
                ELSE current_date + floor(r.days * 90)::int END AS due
) AS d
"""  # noqa: S608 - only the constant fragments above are interpolated


def load_business(
    url: str, *, tenant_id: int, admin_id: int, customers: int, orders: int, tickets: int, receivables: int, seed: int
) -> dict[str, Any]:
    """Orders, tickets and receivables by one INSERT … SELECT each, indexes dropped and rebuilt."""
    dsn = conninfo(url)
    # The tickets keep their indexes: there are few of them, and their partial index does not
    # survive a round trip through pg_get_indexdef textually (PostgreSQL deparses the recreated
    # `status IN (…)` differently), which the check below would take for a changed definition.
    tables = ("customer_orders", "customer_receivables")
    buyers = max(1, round(customers * BUYER_SHARE))
    start = datetime.now(UTC).replace(microsecond=0) - HISTORY
    report: dict[str, Any] = {"orders": orders, "tickets": tickets, "receivables": receivables}
    common = {"tenant": tenant_id, "admin": admin_id, "customers": customers, "buyers": buyers, "seed": seed}
    with psycopg.connect(dsn, autocommit=True) as conn:
        definitions = secondary_indexes(conn, tables)
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # foreign keys hold by construction
            for name in definitions:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            # Empty tables truncated in the loading transaction: with wal_level=minimal the rows
            # are written without WAL. CASCADE covers the tables referencing them (all empty).
            conn.execute("TRUNCATE customer_orders, customer_service_records, customer_receivables CASCADE")
            began = time.perf_counter()
            conn.execute(ORDERS_SQL, {**common, "total": orders, "skew": ORDER_SKEW, "start": start})
            report["orders_insert_s"] = round(time.perf_counter() - began, 1)
            print(f"  orders inserted in {report['orders_insert_s']} s", flush=True)
            subjects = [s for kind in ("consultation", "complaint", "technical_support", "after_sales", "other")
                        for s in SUBJECTS[kind]]  # fmt: skip
            conn.execute(
                TICKETS_SQL,
                {
                    **common, "total": tickets, "skew": TICKET_SKEW, "contacts": CONTACTS_PER_CUSTOMER,
                    "subjects": subjects, "resolutions": list(RESOLUTIONS),
                },
            )  # fmt: skip
            conn.execute(RECEIVABLES_SQL, {**common, "total": receivables})
        report["insert_s"] = round(time.perf_counter() - started, 1)
        # Ids were given explicitly for orders: move the sequence past them.
        conn.execute("SELECT setval(pg_get_serial_sequence('customer_orders', 'id'), %s)", [max(1, orders)])

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            # The two big order indexes first, one per lane; the small ones queue behind them.
            ordered = sorted(definitions.values(), key=lambda s: "customer_orders" not in s)
            for future in [pool.submit(_build, dsn, statement) for statement in ordered]:
                future.result()
        report["index_s"] = round(time.perf_counter() - started, 1)
        if secondary_indexes(conn, tables) != definitions:
            raise RuntimeError("the rebuilt indexes differ from the migration's")

        # What the data looks like, for the record.
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status IN ('cancelled', 'refunded')), count(*) FILTER (WHERE cost IS NULL), "
            "min(amount), max(amount), round(avg(amount), 2) FROM customer_orders"
        ).fetchone()
        if row:
            report["orders_not_spent"] = int(row[0])
            report["orders_without_cost"] = int(row[1])
            report["amount_min_max_mean"] = [float(row[2] or 0), float(row[3] or 0), float(row[4] or 0)]
        per = conn.execute(
            "SELECT count(*), max(n), percentile_disc(0.5) WITHIN GROUP (ORDER BY n) "
            "FROM (SELECT count(*) AS n FROM customer_orders GROUP BY customer_id) s"
        ).fetchone()
        if per:
            report["customers_with_orders"] = int(per[0])
            report["orders_per_buyer_max_median"] = [int(per[1] or 0), int(per[2] or 0)]
        ticket_row = conn.execute(
            "SELECT count(*) FILTER (WHERE service_type = 'complaint'), count(satisfaction_rating) "
            "FROM customer_service_records"
        ).fetchone()
        if ticket_row:
            report["complaints"], report["rated_tickets"] = int(ticket_row[0]), int(ticket_row[1])
        overdue = conn.execute("SELECT count(*) FROM customer_receivables WHERE overdue_days > 0").fetchone()
        report["overdue_receivables"] = int(overdue[0]) if overdue else 0
    return report


def vacuum_analyze(url: str) -> dict[str, Any]:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        seconds = round(time.perf_counter() - started, 1)
        size = conn.execute(
            "SELECT pg_size_pretty(pg_table_size('customer_orders')), "
            "pg_size_pretty(pg_indexes_size('customer_orders')), pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
    sizes = {"customer_orders": size[0], "customer_orders indexes": size[1], "database": size[2]} if size else {}
    return {"vacuum_analyze_s": seconds, "sizes": sizes}


# ---------------------------------------------------------------- the bare aggregate

BARE = "SELECT customer_id, count(*), sum(amount) FROM customer_orders GROUP BY customer_id"
# The groups are computed by the server and counted there: one row crosses the wire.
BARE_ON_SERVER = (
    "SELECT count(*), sum(n), sum(total) FROM "
    "(SELECT customer_id, count(*) AS n, sum(amount) AS total FROM customer_orders GROUP BY customer_id) s"
)


def time_bare(url: str) -> dict[str, Any]:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        plan = "\n".join(str(r[0]) for r in conn.execute("EXPLAIN " + BARE_ON_SERVER))
        conn.execute(BARE_ON_SERVER).fetchone()  # warm: the table into shared buffers and the OS cache
        runs: list[float] = []
        groups = 0
        for _ in range(BARE_RUNS):
            started = time.perf_counter()
            row = conn.execute(BARE_ON_SERVER).fetchone()
            runs.append(time.perf_counter() - started)
            groups = int(row[0]) if row else 0
    return {
        "query": BARE,
        "measured_as": BARE_ON_SERVER,
        "runs_s": [round(r, 3) for r in runs],
        "median_s": round(statistics.median(runs), 3),
        "groups": groups,
        "plan": plan,
    }


# ---------------------------------------------------------------- floors: what any whole-tenant refresh must do

FLOOR_ROWS = "bench_floor_night_rows"
FLOOR_UNINDEXED = "bench_floor_unindexed"
SNAPSHOTS = "customer_value_analysis"


def time_floors(url: str) -> dict[str, Any]:
    """Two parts of any whole-tenant refresh, each measured alone on the same data after the jobs
    (vacuumed and checkpointed first, so that neither autovacuum nor the checkpointer runs beside).

    - grouping: the refresh's own order grouping (crm.analytics.value.order_figures: every
      aggregate the figures need, nothing else) with the refresh's planner settings, each
      aggregate forced to be computed as the bare query's are (an outer max of every column;
      PostgreSQL drops a subquery's unused aggregates); median of 3.
    - writing: the night's snapshot rows, already computed (copied aside from what the job
      wrote), inserted once more, dated a day later, into customer_value_analysis with its
      indexes as the job's INSERT does; and into a table of the same columns without any index.
      Each once, rolled back.
    """
    # On a database at rest, as the bare query was timed: the jobs left a million updated
    # customers and new warnings for autovacuum, and dirty pages for the checkpointer.
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    engine = make_engine(url)
    runs: list[float] = []
    try:
        with make_session_factory(engine)() as session:
            tenant = session.scalars(select(Tenant).order_by(Tenant.id)).first()
            if tenant is None:
                raise RuntimeError("no tenant")
            end = value.end_of(business_today(tenant.timezone or "Asia/Shanghai"), tenant)
            grouped = value.order_figures(tenant, end, settings_of(tenant).churn).subquery("g")
            forced = select(func.count(), *(func.max(c) for c in grouped.c if c.name != "customer_id"))
            with value.nightly_settings(session), planner_methods(session, **value.ORDER_GROUPING_PLAN):
                for _ in range(BARE_RUNS):
                    started = time.perf_counter()
                    session.execute(forced).one()
                    runs.append(time.perf_counter() - started)
            session.rollback()
    finally:
        engine.dispose()

    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        columns = [
            str(r[0])
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum",
                [SNAPSHOTS],
            )
        ]
        indexes = [
            str(r[0]) for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [SNAPSHOTS])
        ]
        rows = sql.Identifier(FLOOR_ROWS)
        conn.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE {} AS SELECT * FROM {} WHERE analysis_date = (SELECT max(analysis_date) FROM {})"
            ).format(rows, sql.Identifier(SNAPSHOTS), sql.Identifier(SNAPSHOTS))
        )
        conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE {})").format(sql.Identifier(FLOOR_UNINDEXED), sql.Identifier(SNAPSHOTS))
        )
        try:
            conn.execute(sql.SQL("VACUUM ANALYZE {}").format(rows))
            count_row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(rows)).fetchone()
            # As the job writes: every column but the id, which the table's sequence gives.
            written = [name for name in columns if name != "id"]
            shifted = [
                sql.SQL("analysis_date + 1") if name == "analysis_date" else sql.Identifier(name) for name in written
            ]
            names = sql.SQL(", ").join(map(sql.Identifier, written))
            into_snapshots = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                sql.Identifier(SNAPSHOTS), names, sql.SQL(", ").join(shifted), rows
            )
            into_unindexed = sql.SQL("INSERT INTO {} SELECT * FROM {}").format(sql.Identifier(FLOOR_UNINDEXED), rows)
            seconds: dict[str, float] = {}
            for name, statement in (("indexed", into_snapshots), ("unindexed", into_unindexed)):
                with conn.transaction(force_rollback=True):
                    started = time.perf_counter()
                    conn.execute(statement)
                    seconds[name] = time.perf_counter() - started
        finally:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(rows, sql.Identifier(FLOOR_UNINDEXED)))
    return {
        "grouping": {
            "what": "crm.analytics.value.order_figures, every aggregate computed",
            "runs_s": [round(r, 3) for r in runs],
            "median_s": round(statistics.median(runs), 3),
        },
        "writing": {
            "rows": int(count_row[0]) if count_row else 0,
            "into_snapshots_s": round(seconds["indexed"], 3),
            "snapshot_indexes": sorted(indexes),
            "into_unindexed_table_s": round(seconds["unindexed"], 3),
        },
    }


# ---------------------------------------------------------------- the nightly jobs


def _temp_bytes(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    conn.execute("SELECT pg_stat_clear_snapshot()")
    row = conn.execute(
        "SELECT temp_bytes, temp_files FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _proc_status_kib(field: str) -> int | None:
    """A memory figure of this process from /proc/self/status (KiB); None where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets the peak RSS (VmHWM, and ru_maxrss with it) to the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class _RefreshSteps(logging.Handler):
    """Keeps the step timings the value refresh logs (crm.analytics.value.refresh), summed over tenants."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.steps: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        for name, seconds in getattr(record, "refresh_steps", {}).items():
            self.steps[name] = self.steps.get(name, 0.0) + seconds


def run_nightly(url: str) -> dict[str, Any]:
    """Every nightly job in the scheduler's order, timed, with memory and temp files around them."""
    separator = "&" if "?" in url else "?"
    engine = make_engine(f"{url}{separator}application_name={JOBS_APPLICATION}")
    factory = make_session_factory(engine)
    jobs_run: dict[str, dict[str, Any]] = {}
    steps = _RefreshSteps()
    value.log.addHandler(steps)
    value.log.setLevel(logging.INFO)
    with psycopg.connect(conninfo(url), autocommit=True) as monitor:
        temp_before, files_before = _temp_bytes(monitor)
        # ru_maxrss is the peak of the process's whole life (the customer load's, usually), so
        # the peak is reset just before the jobs: what is read after them is the jobs' own.
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        rss_before = _proc_status_kib("VmRSS")
        reset = _reset_peak_rss()
        try:
            for name in jobs.NIGHTLY:  # the scheduler's own list and order, whatever it holds today
                print(f"  running {name} …", flush=True)
                started = time.perf_counter()
                done = jobs.run_job(factory, name)
                seconds = time.perf_counter() - started
                jobs_run[name] = {"seconds": round(seconds, 2), "done": done}
                print(f"    {seconds:.1f} s ({done:,})", flush=True)
                if name == "value_refresh" and steps.steps:
                    jobs_run[name]["steps_s"] = {step: round(sec, 2) for step, sec in steps.steps.items()}
                    print("    " + ", ".join(f"{step} {sec:.1f} s" for step, sec in steps.steps.items()), flush=True)
        finally:
            value.log.removeHandler(steps)
            maxrss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            hwm = _proc_status_kib("VmHWM") if reset else None
            # A backend flushes its statistics when idle at most once a second, and for good when
            # it exits: close the jobs' connections, wait for them to go, then read.
            engine.dispose()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                left = monitor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [JOBS_APPLICATION]
                ).fetchone()
                if not left or not left[0]:
                    break
                time.sleep(0.1)
            time.sleep(1.0)
        temp_after, files_after = _temp_bytes(monitor)
    total = sum(job["seconds"] for job in jobs_run.values())
    return {
        "jobs": jobs_run,
        "total_s": round(total, 2),
        "memory": {
            "ru_maxrss_before_jobs_kib": maxrss_before,
            "rss_before_jobs_kib": rss_before,
            "peak_reset_before_jobs": reset,
            # With the reset, ru_maxrss after the jobs is their peak (as VmHWM); without it, the lifetime peak.
            "ru_maxrss_after_jobs_kib": maxrss_after,
            "peak_rss_during_jobs_kib": hwm if hwm is not None else maxrss_after,
            "peak_growth_over_jobs_kib": (hwm - rss_before)
            if hwm is not None and rss_before is not None
            else maxrss_after - maxrss_before,
            "postgresql_temp_bytes": temp_after - temp_before,
            "postgresql_temp_files": files_after - files_before,
        },
    }


# ---------------------------------------------------------------- single-customer refresh over HTTP


def buyers_sample(url: str, count: int, customers: int, rng: random.Random) -> list[int]:
    """``count`` random customers that have orders (with repeats when there are few)."""
    candidates = rng.sample(range(1, customers + 1), min(customers, max(4 * count, 1000)))
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id "
            "WHERE EXISTS (SELECT 1 FROM customer_orders o WHERE o.customer_id = id)",
            [candidates],
        ).fetchall()
    ids = [int(r[0]) for r in rows]
    if not ids:
        raise RuntimeError("no customer with orders was found")
    rng.shuffle(ids)
    return [ids[i % len(ids)] for i in range(count)]


def time_refresh(base: str, token: str, ids: list[int], warmup: int) -> dict[str, Any]:
    latencies: list[float] = []
    orders: list[int] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        for index, customer_id in enumerate(ids):
            started = time.perf_counter()
            answer = client.post(f"/api/v1/crm/customers/{customer_id}/value_analysis/refresh")
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                raise RuntimeError(f"refresh of {customer_id} answered {answer.status_code}: {answer.text[:300]}")
            if index < warmup:
                continue
            latencies.append(elapsed)
            latest = answer.json().get("latest") or {}
            orders.append(int(latest.get("total_orders") or 0))
    p95 = percentile(latencies, 95)
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(p95, 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "mean_orders_of_customer": round(sum(orders) / len(orders), 1),
        "max_orders_of_customer": max(orders),
        "target_p95_ms": TARGET_REFRESH_P95_MS,
        "meets_target": p95 < TARGET_REFRESH_P95_MS,
    }


def screen_reads(ids: list[int]) -> list[tuple[str, Callable[[int], str]]]:
    """The reads behind the screens that live on these figures, as the web UI sends them (first
    page of 20): what a user waits for with a million customers and their warnings and tickets."""

    def customer(index: int) -> int:
        return ids[index % len(ids)]

    regions = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
    return [
        ("GET churn_warnings (in work, first page)", lambda i: "/api/v1/crm/churn_warnings?page_size=20"),
        (
            "GET churn_warnings?risk_level=high&region=…",
            lambda i: f"/api/v1/crm/churn_warnings?page_size=20&risk_level=high&region={regions[i % 7]}",
        ),
        ("GET churn_warnings/summary", lambda i: "/api/v1/crm/churn_warnings/summary"),
        ("GET service_records (first page)", lambda i: "/api/v1/crm/service_records?page_size=20"),
        ("GET service_records/statistics", lambda i: "/api/v1/crm/service_records/statistics"),
        ("GET analytics/dashboard", lambda i: "/api/v1/crm/analytics/dashboard"),
        ("GET customers?level=A (list, first page)", lambda i: "/api/v1/crm/customers?page_size=20&level=A"),
        ("GET customers/{id}/value_analysis", lambda i: f"/api/v1/crm/customers/{customer(i)}/value_analysis"),
        ("GET customers/{id}/behavior_analysis", lambda i: f"/api/v1/crm/customers/{customer(i)}/behavior_analysis"),
        ("GET customers/{id}/timeline", lambda i: f"/api/v1/crm/customers/{customer(i)}/timeline"),
    ]


def time_screens(base: str, token: str, ids: list[int], requests: int, warmup: int) -> dict[str, dict[str, Any]]:
    """p50/p95/p99 of each screen read, sequential over one connection, after ``warmup``."""
    results: dict[str, dict[str, Any]] = {}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        for title, path in screen_reads(ids):
            latencies: list[float] = []
            for index in range(warmup + requests):
                started = time.perf_counter()
                answer = client.get(path(index))
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 200:
                    raise RuntimeError(f"{path(index)} answered {answer.status_code}: {answer.text[:300]}")
                if index >= warmup:
                    latencies.append(elapsed)
            results[title] = {
                "requests": len(latencies),
                "p50_ms": round(percentile(latencies, 50), 2),
                "p95_ms": round(percentile(latencies, 95), 2),
                "p99_ms": round(percentile(latencies, 99), 2),
            }
            print(f"  {title:<44} p50 {results[title]['p50_ms']:7.1f}  p95 {results[title]['p95_ms']:7.1f}", flush=True)
    return results


# ---------------------------------------------------------------- main


def verdicts(seconds: float, bare_s: float) -> dict[str, Any]:
    ratio = seconds / bare_s if bare_s > 0 else float("inf")
    return {
        "seconds": round(seconds, 2),
        "ratio_to_bare": round(ratio, 2),
        "meets_time_target": seconds < TARGET_TOTAL_S,
        "meets_ratio_target": ratio <= TARGET_RATIO,
    }


def _ok(flag: bool) -> str:
    return "ok" if flag else "MISSED"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.nightly", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to load (default 1,000,000)")
    parser.add_argument("--orders", type=int, default=10_000_000, help="orders to load (default 10,000,000)")
    parser.add_argument(
        "--interactions", type=int, default=None, help="interactions to load (default one per customer; 0: none)"
    )
    parser.add_argument("--requests", type=int, default=200, help="measured single-customer refreshes (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured refreshes first (default 20)")
    parser.add_argument(
        "--screen-requests", type=int, default=100, help="measured requests per screen read (default 100)"
    )
    parser.add_argument("--seed", type=int, default=20261203, help="random seed, for repeatable data")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help=f"JSON results (default {RESULTS_FILE})")
    parser.add_argument(
        "--hold",
        action="store_true",
        help="after the run, keep PostgreSQL with the data until interrupted (for EXPLAIN and trials)",
    )
    args = parser.parse_args(argv)
    if args.customers < 1 or args.orders < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--customers, --orders and --requests must be positive, --warmup not negative")
    if args.interactions is None:
        args.interactions = args.customers
    return args


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0915 - one run, read top to bottom
    args = parse_args(argv)
    exit_on_sigterm()  # a killed benchmark still stops its server and removes its cluster
    rng = random.Random(args.seed)
    _prepare()
    started = time.perf_counter()
    pools = Pools.build(args.seed)
    customers: int = args.customers
    tickets = max(1, round(customers * TICKETS_PER_CUSTOMER))
    receivables = max(1, round(customers * RECEIVABLES_PER_CUSTOMER))

    with postgres_server(extra_conf=PG_CONF) as url:
        upgrade(url)
        users = create_users(url, pools, rng)
        generator = Generator(
            pools, seed=args.seed, total=customers, tenant_id=users.tenant_id, admin_id=users.admin_id,
            sales_by_region=users.sales_by_region, sample_ids=set(),
        )  # fmt: skip
        print(f"PostgreSQL at {url}; loading {customers:,} customers …", flush=True)
        customer_load = load(url, generator, customers)
        print(f"  {customer_load.total_s:.1f} s", flush=True)
        interaction_load: dict[str, Any] = {"interactions": 0}
        if args.interactions:
            print(f"loading {args.interactions:,} interactions …", flush=True)
            interaction_load = load_interactions(url, args.interactions, users.tenant_id, users.admin_id)
            print(
                f"  INSERT {interaction_load['insert_s']} s, indexes {interaction_load['index_s']} s, "
                f"VACUUM ANALYZE {interaction_load['vacuum_s']} s",
                flush=True,
            )
        print(f"loading {args.orders:,} orders, {tickets:,} tickets, {receivables:,} receivables …", flush=True)
        business = load_business(
            url, tenant_id=users.tenant_id, admin_id=users.admin_id, customers=customers, orders=args.orders,
            tickets=tickets, receivables=receivables, seed=args.seed,
        )  # fmt: skip
        print(f"  INSERT {business['insert_s']} s, indexes {business['index_s']} s", flush=True)
        vacuum = vacuum_analyze(url)
        print(f"  VACUUM ANALYZE {vacuum['vacuum_analyze_s']} s; sizes {vacuum['sizes']}", flush=True)

        print("timing the bare GROUP BY …", flush=True)
        bare = time_bare(url)
        print(f"  median {bare['median_s']:.2f} s of {bare['runs_s']}", flush=True)

        print(f"running the nightly jobs ({', '.join(jobs.NIGHTLY)}) …", flush=True)
        nightly = run_nightly(url)

        ids = buyers_sample(url, args.warmup + args.requests, customers, rng)
        log_path = args.output.parent / "nightly-server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        print("timing single-customer refreshes over HTTP …", flush=True)
        with api_server(url, workers=2, log_path=log_path, sql_echo=False) as base:
            token = login(base)
            single = time_refresh(base, token, ids, args.warmup)
            print(f"timing the screens' reads ({args.screen_requests} requests each) …", flush=True)
            screens = time_screens(base, token, ids, args.screen_requests, min(args.warmup, 20))

        # Last: the rolled-back writes leave a million dead rows behind for autovacuum.
        print("timing the floors (grouping alone, writing alone) …", flush=True)
        floors = time_floors(url)

        with psycopg.connect(conninfo(url)) as conn:
            version_row = conn.execute("SHOW server_version").fetchone()

        bare_s = bare["median_s"]
        total = verdicts(nightly["total_s"], bare_s)
        refresh = (
            verdicts(nightly["jobs"]["value_refresh"]["seconds"], bare_s)
            if "value_refresh" in nightly["jobs"]
            else None
        )
        memory = nightly["memory"]

        print()
        print(
            f"{customers:,} customers, {args.orders:,} orders, {tickets:,} tickets, {receivables:,} receivables, "
            f"{interaction_load['interactions']:,} interactions"
        )
        header = f"{'step':<44} {'seconds':>9} {'× bare':>8} {'done':>12}"
        print(header)
        print("-" * len(header))
        print(f"{'bare GROUP BY customer_id (median of 3)':<44} {bare_s:>9.2f} {1:>8.2f} {bare['groups']:>12,}")
        for name, job in nightly["jobs"].items():
            print(f"{'job ' + name:<44} {job['seconds']:>9.2f} {job['seconds'] / bare_s:>8.2f} {job['done']:>12,}")
        print(f"{'nightly total':<44} {total['seconds']:>9.2f} {total['ratio_to_bare']:>8.2f}")
        print()
        for label, figures in (("nightly total", total), ("value_refresh", refresh)):
            if figures is None:
                print(f"{label}: not among the nightly jobs")
                continue
            print(
                f"{label}: {figures['seconds']:.1f} s, target < {TARGET_TOTAL_S:.0f} s "
                f"{_ok(figures['meets_time_target'])}; "
                f"{figures['ratio_to_bare']:.2f}× the bare GROUP BY, target ≤ {TARGET_RATIO:.0f}× "
                f"{_ok(figures['meets_ratio_target'])}"
            )
        before = (
            memory["rss_before_jobs_kib"] if memory["peak_reset_before_jobs"] else memory["ru_maxrss_before_jobs_kib"]
        )
        print(
            f"memory: benchmark process peak RSS during the jobs {memory['peak_rss_during_jobs_kib'] / 1024:,.0f} MiB, "
            f"{memory['peak_growth_over_jobs_kib'] / 1024:+,.1f} MiB over the "
            f"{(before or 0) / 1024:,.0f} MiB before them "
            f"(lifetime peak before them {memory['ru_maxrss_before_jobs_kib'] / 1024:,.0f} MiB); "
            f"PostgreSQL temp files {memory['postgresql_temp_bytes'] / 2**20:,.1f} MiB "
            f"({memory['postgresql_temp_files']} files)"
        )
        grouping_s = floors["grouping"]["median_s"]
        writing = floors["writing"]
        print()
        print("floors of any whole-tenant refresh, each alone on the same data (see bench/README.md):")
        for label, seconds in (
            ("order grouping, every aggregate (median of 3)", grouping_s),
            (f"writing {writing['rows']:,} computed rows, {len(writing['snapshot_indexes'])} indexes",
             writing["into_snapshots_s"]),
            ("the same rows into an unindexed table", writing["into_unindexed_table_s"]),
        ):  # fmt: skip
            print(f"  {label:<52} {seconds:>7.2f} s {seconds / bare_s:>6.2f}× bare")
        together = grouping_s + writing["into_snapshots_s"]
        print(
            f"  grouping and writing alone: {together:.1f} s = {together / bare_s:.2f}× the bare GROUP BY "
            f"(the ratio target is {TARGET_RATIO:.0f}×)"
        )
        print()
        print(f"{'scenario':<44} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  target p95")
        print(
            f"{'POST value_analysis/refresh (one customer)':<44} {single['requests']:>5} {single['p50_ms']:>8.1f} "
            f"{single['p95_ms']:>8.1f} {single['p99_ms']:>8.1f}  < {TARGET_REFRESH_P95_MS:.0f} ms "
            f"{_ok(single['meets_target'])}"
        )

        results = {
            "benchmark": "nightly",
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "customers": customers,
            "orders": args.orders,
            "tickets": tickets,
            "receivables": receivables,
            "interactions": interaction_load["interactions"],
            "requests": args.requests,
            "warmup": args.warmup,
            "seed": args.seed,
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "postgresql": version_row[0] if version_row else None,
                "postgresql_conf": PG_CONF,
            },
            "load": {
                "customers_s": round(customer_load.total_s, 1),
                "interactions": interaction_load,
                "business": business,
                **vacuum,
            },
            "bare_group_by": bare,
            "nightly": nightly,
            "targets": {
                "total_s": TARGET_TOTAL_S,
                "ratio_to_bare": TARGET_RATIO,
                "refresh_p95_ms": TARGET_REFRESH_P95_MS,
            },
            "verdicts": {"nightly_total": total, "value_refresh": refresh},
            "floors": floors,
            "single_refresh": single,
            "screens": screens,
            "wall_clock_s": round(time.perf_counter() - started, 1),
        }
        print()
        print(f"{'screen read (admin, whole tenant)':<44} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
        for title, figures in screens.items():
            print(
                f"{title:<44} {figures['requests']:>5} {figures['p50_ms']:>8.1f} {figures['p95_ms']:>8.1f} "
                f"{figures['p99_ms']:>8.1f}"
            )

        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
        print(f"\nresults written to {args.output} (wall clock {results['wall_clock_s']} s)")
        if args.hold:
            print(f"holding PostgreSQL at {url} (Ctrl-C or SIGTERM ends it and removes the cluster)", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
