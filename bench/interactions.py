"""Interactions at scale: recording them at a sustained rate, and pending follow-ups among millions.

    .venv/bin/python -m bench.interactions [--interactions 5000000] [--customers 100000]

1. starts a throwaway PostgreSQL (tests.servers), migrates it, creates a tenant, ~50 sales reps
   (as bench.customers does) and one sales manager per region;
2. bulk-loads the customers with bench.customers' loader, then N interactions in one
   ``INSERT … SELECT`` over ``generate_series`` (each by the customer's own sales rep, spread
   over the last two years; 2 % with a pending follow-up due within ±30 days, 20 % with one
   done), then rebuilds the interaction indexes from the migration's definitions;
3. runs the reminder job once (it notifies the owners of every follow-up already due, as after
   an import) and times it; then starts ``crm serve --workers 2`` and signs every rep and
   manager in;
4. ``pending_follow_up``: sequential requests, each as a random rep (their own follow-ups),
   then as a random manager (their region's team);
5. recording: ``POST /customers/{id}/interactions`` by random reps on their own customers at a
   fixed arrival rate (``--rate`` per second for ``--duration`` seconds, from 4 client threads),
   reporting the rate achieved and the latency percentiles;
6. prints the figures and writes bench/results/interactions.json.

The throwaway cluster runs with fsync and synchronous_commit off (tests.servers): the write
figures show the application's cost, not the disk's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from tests.servers import exit_on_sigterm, postgres_server

from bench.customers import (
    PASSWORD,
    PG_CONF,
    Generator,
    Pools,
    _prepare,
    api_server,
    conninfo,
    create_users,
    load,
    percentile,
    secondary_indexes,
)
from crm.jobs import run_job
from crm.kit.db import make_engine, make_session_factory
from crm.kit.migrate import upgrade
from crm.kit.regions import Region
from crm.models import Tenant
from crm.models.enums import Role
from crm.users.service import create_user

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "interactions.json"
TARGET_PENDING_P95_MS = 50.0
PENDING_SHARE = 0.02  # interactions with a follow-up still to do
DONE_SHARE = 0.20  # … and with one done
CLIENT_THREADS = 4

SUBJECTS = ("电话回访", "上门拜访", "微信沟通", "产品演示", "合同洽谈", "售后回访", "报价跟进", "年度复盘")
NEXT_ACTIONS = ("发送报价单", "安排技术交流", "确认合同条款", "回访使用情况", "邀请参加展会")
TYPES = ("call", "email", "meeting", "visit", "wechat", "other")


def create_managers(url: str, tenant_id: int) -> dict[Region, str]:
    """One sales manager per region; returns their user names."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            tenant = session.get(Tenant, tenant_id)
            assert tenant is not None
            names: dict[Region, str] = {}
            for number, region in enumerate(Region, 1):
                username = f"bench.manager{number}"
                create_user(
                    session, tenant=tenant, username=username, password=PASSWORD, role=Role.SALES_MANAGER,
                    region=region, display_name=f"{region.value}经理",
                )  # fmt: skip
                names[region] = username
            session.commit()
            return names
    finally:
        engine.dispose()


def load_interactions(url: str, total: int, tenant_id: int, admin_id: int) -> dict[str, Any]:
    """N interactions by one INSERT … SELECT; indexes dropped first and rebuilt after."""
    dsn = conninfo(url)
    report: dict[str, Any] = {"interactions": total}
    with psycopg.connect(dsn, autocommit=True) as conn:
        definitions = secondary_indexes(conn, ("customer_interactions",))
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()
        count = int(customers[0]) if customers else 0
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")  # foreign keys hold by construction
            for name in definitions:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            values = {
                "tenant": tenant_id, "admin": admin_id, "total": total, "customers": count,
                "types": list(TYPES), "subjects": list(SUBJECTS), "actions": list(NEXT_ACTIONS),
                "pending": PENDING_SHARE, "done": DONE_SHARE,
            }  # fmt: skip
            # g → customer g % count + 1; status by a hash of g so the shares are exact and spread.
            conn.execute(
                """
                INSERT INTO customer_interactions (
                    tenant_id, customer_id, contact_id, interaction_type, interaction_direction, subject,
                    content, interaction_date, duration_minutes, outcome, next_action, next_action_date,
                    staff_id, attachments, follow_up_status, follow_up_done_at, reminded_at, created_by,
                    version, created_at, updated_at)
                SELECT %(tenant)s, c.id, NULL,
                       (%(types)s::text[])[1 + (g %% 6)],
                       CASE WHEN g %% 3 = 0 THEN 'inbound' ELSE 'outbound' END,
                       (%(subjects)s::text[])[1 + (g %% 8)],
                       '客户反馈良好，' || (%(subjects)s::text[])[1 + (g %% 8)] || '已完成',
                       moment, 5 + (g %% 55),
                       CASE WHEN share < %(pending)s THEN 'follow_up_needed' ELSE 'successful' END,
                       CASE WHEN share < %(pending)s + %(done)s THEN (%(actions)s::text[])[1 + (g %% 5)] END,
                       CASE WHEN share < %(pending)s THEN now() + (((g %% 86400) - 43200) * interval '1 minute')
                            WHEN share < %(pending)s + %(done)s THEN moment + interval '3 days' END,
                       coalesce(c.assigned_sales_id, %(admin)s), '[]',
                       CASE WHEN share < %(pending)s THEN 'pending'
                            WHEN share < %(pending)s + %(done)s THEN 'done' ELSE 'none' END,
                       CASE WHEN share >= %(pending)s AND share < %(pending)s + %(done)s
                            THEN moment + interval '2 days' END,
                       NULL, coalesce(c.assigned_sales_id, %(admin)s), 1, moment, moment
                FROM generate_series(1, %(total)s) AS g
                CROSS JOIN LATERAL (
                    SELECT ((hashint4(g) & 2147483647) %% 1000000) / 1000000.0 AS share,
                           now() - ((hashint4(g + 7) & 2147483647) %% (730 * 1440)) * interval '1 minute' AS moment
                ) AS r
                JOIN customers c ON c.id = 1 + (g %% %(customers)s)
                """,
                values,
            )
            # last_contact_date follows the interactions, as the API keeps it.
            conn.execute(
                "UPDATE customers c SET last_contact_date = i.last FROM (SELECT customer_id, max(interaction_date) "
                "AS last FROM customer_interactions GROUP BY customer_id) i WHERE c.id = i.customer_id"
            )
        report["insert_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(_build, dsn, statement) for statement in definitions.values()]:
                future.result()
        report["index_s"] = round(time.perf_counter() - started, 1)
        if secondary_indexes(conn, ("customer_interactions",)) != definitions:
            raise RuntimeError("the rebuilt indexes differ from the migration's")
        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) customer_interactions, customers")
        report["vacuum_s"] = round(time.perf_counter() - started, 1)
        pending = conn.execute("SELECT count(*) FROM customer_interactions WHERE follow_up_status = 'pending'")
        report["pending_follow_ups"] = int((pending.fetchone() or [0])[0])
        size = conn.execute(
            "SELECT pg_size_pretty(pg_table_size('customer_interactions')), "
            "pg_size_pretty(pg_indexes_size('customer_interactions'))"
        ).fetchone()
        report["sizes"] = {"table": size[0], "indexes": size[1]} if size else {}
    return report


def _build(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute(statement)  # pg_get_indexdef: the migration's own definition


def catch_up_reminders(url: str) -> dict[str, Any]:
    """Every follow-up overdue at load time is reminded of once, as after an import: time that
    catch-up by the job itself, so the API is measured afterwards in its steady state."""
    engine = make_engine(url)
    try:
        began = time.perf_counter()
        reminded = run_job(make_session_factory(engine), "reminders")
        return {"reminders_sent": reminded, "seconds": round(time.perf_counter() - began, 1)}
    finally:
        engine.dispose()


def owners(url: str) -> tuple[dict[int, list[int]], dict[int, str], str | None]:
    """Each rep's customers, the reps' user names, and the server's version."""
    with psycopg.connect(conninfo(url)) as conn:
        owned: dict[int, list[int]] = {}
        for customer_id, owner in conn.execute("SELECT id, assigned_sales_id FROM customers"):
            if owner is not None:
                owned.setdefault(int(owner), []).append(int(customer_id))
        rows = conn.execute("SELECT id, username FROM users WHERE role = 'sales'")
        reps = {int(uid): str(name) for uid, name in rows}
        version = conn.execute("SHOW server_version").fetchone()
    return owned, reps, str(version[0]) if version else None


def sign_in(base: str, username: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/login", data={"username": username, "password": PASSWORD}, timeout=30)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def summary(latencies: Sequence[float], **extra: Any) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        **extra,
    }


def time_pending(client: httpx.Client, tokens: list[str], requests: int, warmup: int, rng: random.Random) -> Any:
    latencies: list[float] = []
    shown: list[int] = []
    for index in range(warmup + requests):
        headers = {"Authorization": f"Bearer {rng.choice(tokens)}"}
        started = time.perf_counter()
        answer = client.get("/api/v1/crm/interactions/pending_follow_up", headers=headers, params={"days": 7})
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"pending_follow_up answered {answer.status_code}: {answer.text[:300]}")
        if index >= warmup:
            latencies.append(elapsed)
            body = answer.json()
            shown.append(len(body["overdue"]) + len(body["today"]) + len(body["upcoming"]))
    return summary(latencies, mean_listed=round(sum(shown) / len(shown), 1), target_p95_ms=TARGET_PENDING_P95_MS)


def time_recording(
    base: str, reps: list[tuple[str, list[int]]], rate: float, duration: float, rng: random.Random
) -> dict[str, Any]:
    """Open-loop arrivals at ``rate`` per second: a late request does not delay the next one's start."""
    total = int(rate * duration)
    schedule = [i / rate for i in range(total)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    plan = [rng.choice(reps) for _ in range(total)]
    picks = [(token, rng.choice(customers)) for token, customers in plan]
    begun = time.perf_counter() + 0.5

    def worker(lane: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for index in range(lane, total, CLIENT_THREADS):
                wait = begun + schedule[index] - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                token, customer_id = picks[index]
                started = time.perf_counter()
                answer = client.post(
                    f"/api/v1/crm/customers/{customer_id}/interactions",
                    headers={"Authorization": f"Bearer {token}"},
                    json={
                        "interaction_type": "call",
                        "interaction_direction": "outbound",
                        "subject": "电话回访：确认到货情况",
                        "content": "客户表示满意，下周安排技术交流",
                        "duration_minutes": 12,
                        "outcome": "follow_up_needed",
                        "next_action": "安排技术交流",
                        "next_action_date": "2027-01-15T10:00:00+08:00",
                    },
                )
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if answer.status_code == 201:
                        latencies.append(elapsed)
                    else:
                        failures.append(f"{answer.status_code}: {answer.text[:200]}")

    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        for future in [pool.submit(worker, lane) for lane in range(CLIENT_THREADS)]:
            future.result()
    wall = time.perf_counter() - begun
    if failures:
        raise RuntimeError(f"{len(failures)} recordings failed, e.g. {failures[0]}")
    return summary(latencies, offered_per_s=rate, achieved_per_s=round(len(latencies) / wall, 1))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.interactions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=5_000_000, help="interactions to load (default 5,000,000)")
    parser.add_argument("--customers", type=int, default=100_000, help="customers they belong to (default 100,000)")
    parser.add_argument("--requests", type=int, default=500, help="measured pending_follow_up requests per role")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests first")
    parser.add_argument("--rate", type=float, default=50.0, help="interactions recorded per second (default 50)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of recording (default 30)")
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()
    rng = random.Random(args.seed)
    _prepare()
    started = time.perf_counter()
    pools = Pools.build(args.seed)
    with postgres_server(extra_conf=PG_CONF) as url:
        upgrade(url)
        users = create_users(url, pools, rng)
        managers = create_managers(url, users.tenant_id)
        generator = Generator(
            pools, seed=args.seed, total=args.customers, tenant_id=users.tenant_id, admin_id=users.admin_id,
            sales_by_region=users.sales_by_region, sample_ids=set(),
        )  # fmt: skip
        print(f"loading {args.customers:,} customers …", flush=True)
        customer_load = load(url, generator, args.customers)
        print(f"  {customer_load.total_s:.1f} s; loading {args.interactions:,} interactions …", flush=True)
        interaction_load = load_interactions(url, args.interactions, users.tenant_id, users.admin_id)
        print(
            f"  INSERT {interaction_load['insert_s']} s, indexes {interaction_load['index_s']} s, "
            f"VACUUM ANALYZE {interaction_load['vacuum_s']} s; {interaction_load['pending_follow_ups']:,} pending "
            f"follow-ups; sizes {interaction_load['sizes']}",
            flush=True,
        )
        catch_up = catch_up_reminders(url)
        print(f"  reminder job caught up with {catch_up['reminders_sent']:,} due follow-ups in {catch_up['seconds']} s")
        owned, reps, version = owners(url)
        log_path = args.output.parent / "interactions-server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        results: dict[str, Any] = {}
        with api_server(url, workers=2, log_path=log_path, sql_echo=False) as base:
            rep_tokens = {uid: sign_in(base, name) for uid, name in reps.items() if uid in owned}
            manager_tokens = [sign_in(base, name) for name in managers.values()]
            with httpx.Client(base_url=base, timeout=60) as client:
                print("timing pending_follow_up as sales reps …", flush=True)
                results["pending_as_rep"] = time_pending(
                    client, list(rep_tokens.values()), args.requests, args.warmup, rng
                )
                print("timing pending_follow_up as sales managers …", flush=True)
                results["pending_as_manager"] = time_pending(client, manager_tokens, args.requests, args.warmup, rng)
            print(f"recording interactions at {args.rate:g}/s for {args.duration:g} s …", flush=True)
            results["record"] = time_recording(
                base, [(rep_tokens[uid], owned[uid]) for uid in rep_tokens], args.rate, args.duration, rng
            )

    print()
    print(f"{args.interactions:,} interactions over {args.customers:,} customers")
    print(f"{'scenario':<44} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for key, title in (
        ("pending_as_rep", "pending_follow_up, a sales rep's own"),
        ("pending_as_manager", "pending_follow_up, a manager's region"),
        ("record", f"POST interactions at {args.rate:g}/s"),
    ):
        figures = results[key]
        print(
            f"{title:<44} {figures['requests']:>5} {figures['p50_ms']:>8.1f} {figures['p95_ms']:>8.1f} "
            f"{figures['p99_ms']:>8.1f}"
        )
    print(f"recording achieved {results['record']['achieved_per_s']}/s of {args.rate:g}/s offered")
    for key in ("pending_as_rep", "pending_as_manager"):
        verdict = "ok" if results[key]["p95_ms"] < TARGET_PENDING_P95_MS else "MISSED"
        print(f"{key}: p95 target < {TARGET_PENDING_P95_MS:.0f} ms {verdict}")

    output = {
        "benchmark": "interactions",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "interactions": args.interactions,
        "customers": args.customers,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": version,
        },
        "load": {"customers_s": round(customer_load.total_s, 1), **interaction_load},
        "reminder_catch_up": catch_up,
        "scenarios": results,
        "wall_clock_s": round(time.perf_counter() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, ensure_ascii=False, indent=2) + "\n")
    print(f"results written to {args.output} (wall clock {output['wall_clock_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
