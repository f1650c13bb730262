"""Customer search and profile latency at scale, measured through the real HTTP API.

    .venv/bin/python -m bench.customers [--customers 1000000] [--requests 500]

1. starts a throwaway PostgreSQL (tests.servers) and migrates it with Alembic;
2. creates a tenant, an admin and ~50 sales users through the user service;
3. bulk-loads N customers with two contacts each by COPY, their search tokens and text
   computed by the customer service's own indexing function, then rebuilds the indexes;
4. starts ``crm serve`` on that database and logs in as the admin (tenant-wide scope);
5. times keyword searches and profile reads with sequential HTTP requests;
6. prints p50/p95/p99 next to the targets and writes bench/results/customers.json.

Nothing here is a shortcut the app does not take at run time: data is shaped as the API
would store it (normalised phones, lower-case e-mails, region from province) and every
index is recreated from the migration's own definition.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import httpx
import psycopg
from faker import Faker
from faker.providers.company.zh_CN import Provider as ZhCompanyProvider
from psycopg import sql
from sqlalchemy.engine import make_url
from tests.servers import exit_on_sigterm, free_port, postgres_server
from tests.sqlcapture import captured_sql, explain_all

from crm.config import settings
from crm.customers.schemas import CustomerFilters

# The service's own indexing function: tokens and text computed by anything else could
# drift from what the app writes and searches for.
from crm.customers.service import search_customers, search_fields
from crm.demo import CITIES, INDUSTRIES, PROVINCE_WEIGHTS, SOURCES, TAGS, TITLES
from crm.kit.crypto import email_index, keyring, new_key, phone_index
from crm.kit.db import make_engine, make_session_factory
from crm.kit.migrate import upgrade
from crm.kit.phones import normalise_phone
from crm.kit.regions import DEFAULT_PROVINCE_REGIONS, Region
from crm.models import Customer, CustomerContact, User
from crm.models.enums import Role
from crm.users.service import actor_for, create_tenant, create_user

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "customers.json"
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway cluster's user
ADMIN = "bench.admin"
TARGET_SEARCH_P95_MS = 50.0
TARGET_PROFILE_P95_MS = 15.0
# Customers generated and copied per round: bounds the contacts held in memory.
CHUNK = 20_000

# Sized for the 2-core, 23 GB benchmark machine. The memory settings are what a production
# server of that size would run with; the WAL settings only make the bulk load cheap and
# are harmless for a read benchmark on a throwaway cluster (fsync is off there anyway).
PG_CONF: dict[str, str] = {
    "shared_buffers": "2GB",
    "effective_cache_size": "8GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    # Two index builds already run side by side on two cores; extra workers would only queue.
    "max_parallel_maintenance_workers": "0",
    # With minimal WAL, COPY into a table truncated in the same transaction writes no WAL.
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
}
TABLES = ("customers", "customer_contacts", "customer_search")  # what the load writes
# The search-token GIN index takes longest to build; it gets its own session and more memory
# (fewer flushes of the in-memory entry accumulator).
GIN_INDEX = "ix_customer_search_tokens"
GIN_BUILD_MEMORY = "2GB"

# ---------------------------------------------------------------- data pools

# Characters common in Chinese firm names (字号); two of them make a plausible 字号.
FIRM_CHARS = (
    "华盛泰鑫达恒瑞源新创宏博信联通中天海金德安永嘉富益隆兴昌光明科远星辰云智锦荣汇丰佳康乐和顺"
    "祥福润泽宇航腾飞龙凤鹏越卓聚诚尚优美立方正元亿万东南江山川林森晨阳晶辉耀睿思维致合力众弘广"
    "大全普惠志启翔骏驰麒麟"
)
STEMS = 4_000
INDUSTRY_WORDS = (
    "科技", "网络科技", "信息技术", "电子", "贸易", "实业", "传媒", "医药", "物流", "建材", "机械设备",
    "化工", "食品", "服饰", "环保科技", "新能源", "投资管理", "管理咨询", "教育科技", "软件",
    "生物科技", "餐饮管理", "建筑工程", "汽车零部件",
)  # fmt: skip
LEGAL_FORMS = {"有限公司": 70, "股份有限公司": 15, "有限责任公司": 10, "集团有限公司": 5}
# Share of enterprise names that start with their city, as in 深圳市腾讯计算机系统有限公司.
CITY_PREFIX_SHARE = 0.4
ENTERPRISE_SHARE = 0.9
# 154 and 174 are not mobile ranges for phonenumbers, which the API validates with.
MOBILE_PREFIXES = tuple(
    str(p)
    for p in (*range(130, 140), *range(150, 160), *range(170, 179), *range(180, 190), 198, 199)
    if p not in (154, 174)
)
EMAIL_DOMAINS = {
    "qq.com": 30, "163.com": 20, "126.com": 10, "sina.com": 5, "139.com": 5, "foxmail.com": 5,
    "outlook.com": 5, "hotmail.com": 3, "gmail.com": 3, "aliyun.com": 2,
}  # fmt: skip
LEVEL_WEIGHTS = {"A": 1, "B": 3, "C": 5, "D": 6}
STATUS_WEIGHTS = {"active": 90, "inactive": 8, "blacklist": 2}
SALES_USERS = 50
HISTORY = timedelta(days=3 * 365)  # customers were created over the last three years


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True)
class Pools:
    """Names built once with Faker; rows combine them with `random`, ~100x faster than Faker per row."""

    people: list[str]
    usernames: list[str]
    stems: list[str]

    @classmethod
    def build(cls, seed: int) -> Pools:
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        rng = random.Random(seed)
        people = [fake.name() for _ in range(20_000)]
        usernames = sorted({fake.user_name() for _ in range(5_000)})
        stems = list(dict.fromkeys(ZhCompanyProvider.company_prefixes))
        seen = set(stems)
        while len(stems) < STEMS:
            first, second = rng.sample(FIRM_CHARS, 2)
            if first + second not in seen:
                seen.add(first + second)
                stems.append(first + second)
        return cls(people=people, usernames=usernames, stems=stems)


def _check_phone_prefixes() -> None:
    """Every generated mobile must survive the API's own validation unchanged."""
    for prefix in MOBILE_PREFIXES:
        phone = f"{prefix}12345678"
        if normalise_phone(phone) != phone:
            raise RuntimeError(f"mobile prefix {prefix} is not accepted by crm.kit.phones")


# ---------------------------------------------------------------- row generation

# (column, type) in COPY order. The types tell psycopg how to render each Python value in
# COPY's text format (a list as an array literal); the server parses the text with the
# column's real type, so text suffices for varchar, enum-checked, numeric and jsonb columns.
CUSTOMER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "int8"), ("tenant_id", "int8"), ("customer_code", "text"), ("customer_name", "text"),
    ("customer_type", "text"), ("customer_level", "text"), ("customer_status", "text"),
    ("industry", "text"), ("company_size", "text"), ("annual_revenue", "text"),
    ("credit_rating", "text"), ("source", "text"), ("acquisition_date", "date"),
    ("assigned_sales_id", "int8"), ("tags", "text"), ("province", "text"), ("city", "text"),
    ("region", "text"), ("region_locked", "bool"), ("created_by", "int8"), ("updated_by", "int8"),
    ("version", "int4"), ("created_at", "timestamptz"), ("updated_at", "timestamptz"),
)  # fmt: skip
SEARCH_COLUMNS: tuple[tuple[str, str], ...] = (
    ("customer_id", "int8"), ("search_tokens", "text[]"), ("search_text", "text"),
)  # fmt: skip
CONTACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "int8"), ("tenant_id", "int8"), ("customer_id", "int8"), ("contact_name", "text"),
    ("contact_title", "text"), ("contact_phone", "text"), ("contact_email", "text"),
    ("contact_wechat", "text"), ("is_primary", "bool"), ("is_decision_maker", "bool"),
    ("contact_status", "text"), ("birthday", "text"), ("created_by", "int8"), ("updated_by", "int8"),
    ("version", "int4"), ("created_at", "timestamptz"), ("updated_at", "timestamptz"),
    ("phone_index", "text"), ("email_index", "text"),
)  # fmt: skip
CONTACTS_PER_CUSTOMER = 2

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Sample:
    """A loaded customer remembered for picking realistic query values."""

    id: int
    name: str
    stem: str | None  # the 字号 of an enterprise name
    phones: tuple[str, ...]


class _Weighted:
    """random.choices with precomputed cumulative weights (the per-row hot path)."""

    def __init__(self, weights: dict[str, int]) -> None:
        self.values = list(weights)
        self.cum: list[float] = []
        total = 0.0
        for value in self.values:
            total += weights[value]
            self.cum.append(total)

    def pick(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum)[0]


class Generator:
    """Customers and their contacts, shaped exactly as the API would store them."""

    def __init__(
        self,
        pools: Pools,
        *,
        seed: int,
        total: int,
        tenant_id: int,
        admin_id: int,
        sales_by_region: dict[Region, list[int]],
        sample_ids: set[int],
    ) -> None:
        self.pools = pools
        self.rng = random.Random(seed)
        self.total = total
        self.tenant_id = tenant_id
        self.admin_id = admin_id
        self.sales_by_region = sales_by_region
        self.sample_ids = sample_ids
        self.samples: list[Sample] = []
        self.ring = keyring()
        self.provinces = _Weighted(PROVINCE_WEIGHTS)
        self.forms = _Weighted(LEGAL_FORMS)
        self.domains = _Weighted(EMAIL_DOMAINS)
        self.levels = _Weighted(LEVEL_WEIGHTS)
        self.statuses = _Weighted(STATUS_WEIGHTS)
        # Ids grow with creation time (the app sorts "newest" by id), so timestamps do too.
        self.start = datetime.now(UTC) - HISTORY
        self.step = HISTORY / max(total, 1)
        tags = [*TAGS]
        self.tag_sets = ["[]"] * 10 + [json.dumps([t], ensure_ascii=False) for t in tags] * 2
        self.tag_sets += [json.dumps(self.rng.sample(tags, 2), ensure_ascii=False) for _ in range(20)]

    def _phone(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(100_000_000):08d}"

    def _name(self, city: str) -> tuple[str, str | None, bool]:
        rng = self.rng
        if rng.random() >= ENTERPRISE_SHARE:
            return rng.choice(self.pools.people), None, False
        stem = rng.choice(self.pools.stems)
        place = city if city.endswith("市") else city[:2]  # 大理白族自治州 → 大理
        prefix = place if rng.random() < CITY_PREFIX_SHARE else ""
        return f"{prefix}{stem}{rng.choice(INDUSTRY_WORDS)}{self.forms.pick(rng)}", stem, True

    def customers(self, first: int, count: int, contacts_out: list[Row], search_out: list[Row]) -> Iterator[Row]:
        """Customer rows ``first`` .. ``first + count - 1``; their contacts go to ``contacts_out``,
        their search data to ``search_out``.

        A generator, so the server parses each customer row while the next one is computed.
        """
        rng, pools = self.rng, self.pools
        for cid in range(first, first + count):
            province = self.provinces.pick(rng)
            city = rng.choice(CITIES[province])
            region = DEFAULT_PROVINCE_REGIONS[province]
            name, stem, enterprise = self._name(city)
            code = f"C{cid:08d}"
            created = self.start + self.step * cid

            contacts: list[SimpleNamespace] = []
            seal = self.ring.encrypt
            for k in range(CONTACTS_PER_CUSTOMER):
                username = rng.choice(pools.usernames)
                contact = SimpleNamespace(
                    contact_name=rng.choice(pools.people),
                    contact_phone=self._phone(),
                    # The API lower-cases e-mails; these are lower case already.
                    contact_email=f"{username}@{self.domains.pick(rng)}" if rng.random() < 0.8 else None,
                    deleted_at=None,
                )
                contacts.append(contact)
                contact_id = (cid - 1) * CONTACTS_PER_CUSTOMER + k + 1
                birthday = date(1965, 1, 1) + timedelta(days=rng.randrange(35 * 365)) if rng.random() < 0.4 else None
                wechat = f"wx_{username}" if rng.random() < 0.6 else None
                email = contact.contact_email
                # Personal data encrypted and blind-indexed exactly as the model's column types do.
                contacts_out.append((
                    contact_id, self.tenant_id, cid, contact.contact_name,
                    rng.choice(TITLES) if enterprise else None,
                    seal(contact.contact_phone, "customer_contacts.contact_phone"),
                    email and seal(email, "customer_contacts.contact_email"),
                    wechat and seal(wechat, "customer_contacts.contact_wechat"),
                    k == 0,  # the first contact of a customer is its primary one, as the service does
                    rng.random() < 0.3, "active", birthday and seal(birthday.isoformat(), "customer_contacts.birthday"),
                    self.admin_id, self.admin_id, 1, created, created,
                    phone_index(contact.contact_phone), email_index(email),
                ))  # fmt: skip

            tokens, text = search_fields(
                cast(Customer, SimpleNamespace(customer_name=name, customer_code=code)),
                cast(list[CustomerContact], contacts),
            )
            search_out.append((cid, tokens, text))
            if cid in self.sample_ids:
                phones = tuple(c.contact_phone for c in contacts)
                self.samples.append(Sample(id=cid, name=name, stem=stem, phones=phones))

            revenue = None
            if enterprise:
                revenue = f"{rng.uniform(1e6, 5e8):.2f}"
            yield (
                cid, self.tenant_id, code, name, "enterprise" if enterprise else "individual",
                self.levels.pick(rng), self.statuses.pick(rng),
                rng.choice(INDUSTRIES) if enterprise else None,
                rng.choice(("small", "medium", "large")) if enterprise else None, revenue,
                rng.choice(("AAA", "AA", "A", "BBB", "BB", "B", "C")) if enterprise else None,
                rng.choice(SOURCES), (created - timedelta(days=rng.randrange(30))).date(),
                rng.choice(self.sales_by_region[region]), rng.choice(self.tag_sets),
                province, city, region.value, False, self.admin_id, self.admin_id, 1, created, created,
            )  # fmt: skip


# ---------------------------------------------------------------- tenant and users


@dataclass(frozen=True)
class Users:
    tenant_id: int
    admin_id: int
    sales_by_region: dict[Region, list[int]]


def create_users(url: str, pools: Pools, rng: random.Random) -> Users:
    """The tenant, its admin and ~50 sales reps, spread over regions like the customers are."""
    region_weight: dict[Region, int] = {}
    for province, weight in PROVINCE_WEIGHTS.items():
        region = DEFAULT_PROVINCE_REGIONS[province]
        region_weight[region] = region_weight.get(region, 0) + weight
    total_weight = sum(region_weight.values())
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            tenant = create_tenant(session, "bench", "压测科技有限公司")
            admin = create_user(
                session, tenant=tenant, username=ADMIN, password=PASSWORD, role=Role.ADMIN, display_name="压测管理员"
            )
            sales_by_region: dict[Region, list[int]] = {}
            number = 0
            for region, weight in region_weight.items():
                reps = sales_by_region.setdefault(region, [])
                for _ in range(max(1, round(SALES_USERS * weight / total_weight))):
                    number += 1
                    user = create_user(
                        session, tenant=tenant, username=f"bench.sales{number:02d}", password=PASSWORD,
                        role=Role.SALES, region=region, display_name=rng.choice(pools.people),
                        team=f"{region.value}销售部",
                    )  # fmt: skip
                    reps.append(user.id)
            session.commit()
            return Users(tenant_id=tenant.id, admin_id=admin.id, sales_by_region=sales_by_region)
    finally:
        engine.dispose()


# ---------------------------------------------------------------- bulk load


def conninfo(url: str) -> str:
    """psycopg's connection string for a SQLAlchemy postgresql+psycopg URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class LoadReport:
    customers: int
    contacts: int
    copy_s: float = 0.0
    index_s: float = 0.0
    vacuum_s: float = 0.0
    index_build_s: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return self.copy_s + self.index_s + self.vacuum_s


def secondary_indexes(conn: psycopg.Connection[Any], tables: Sequence[str]) -> dict[str, str]:
    """name → CREATE INDEX statement of every index not backing a constraint (PK, unique)."""
    rows = conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(c.oid)
        FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
        WHERE x.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
        ORDER BY c.relname
        """,
        [list(tables)],
    ).fetchall()
    return dict(rows)


def _copy(
    conn: psycopg.Connection[Any], table: str, columns: Sequence[tuple[str, str]], rows: Iterator[Row] | list[Row]
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns)
    )
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([kind for _, kind in columns])
        for row in rows:
            copy.write_row(row)


def _build_indexes(dsn: str, definitions: dict[str, str]) -> dict[str, float]:
    """Recreate the dropped indexes: the search GIN on one session, all others on another."""
    lanes = [[GIN_INDEX], [name for name in definitions if name != GIN_INDEX]]
    timings: dict[str, float] = {}

    def build(names: list[str]) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if GIN_INDEX in names:
                conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(GIN_BUILD_MEMORY)))
            for name in names:
                started = time.perf_counter()
                # The statement comes from pg_get_indexdef: the migration's exact definition.
                conn.execute(definitions[name])
                timings[name] = time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        for future in [pool.submit(build, lane) for lane in lanes if lane]:
            future.result()
    return timings


def load(url: str, generator: Generator, total: int) -> LoadReport:
    dsn = conninfo(url)
    report = LoadReport(customers=total, contacts=total * CONTACTS_PER_CUSTOMER)
    with psycopg.connect(dsn, autocommit=True) as conn:
        definitions = secondary_indexes(conn, TABLES)
        if GIN_INDEX not in definitions:
            raise RuntimeError(f"{GIN_INDEX} not found: has the migration changed?")
        started = time.perf_counter()
        with conn.transaction():
            # Every foreign key is valid by construction; checking each contact row's customer
            # would cost an index probe per row. (The cluster's owner is a superuser.)
            conn.execute("SET LOCAL session_replication_role = replica")
            for name in definitions:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            # Truncating in the loading transaction allows COPY FREEZE (rows written already
            # frozen and all-visible: no hint-bit rewrites on first read, little to vacuum)
            # and, with wal_level=minimal, skips WAL. The tables are empty; CASCADE covers
            # whatever tables reference customers now or later.
            conn.execute("TRUNCATE customers, customer_contacts, customer_search CASCADE")
            done_at = 0
            for first in range(1, total + 1, CHUNK):
                count = min(CHUNK, total - first + 1)
                contacts: list[Row] = []
                searches: list[Row] = []
                _copy(conn, "customers", CUSTOMER_COLUMNS, generator.customers(first, count, contacts, searches))
                _copy(conn, "customer_contacts", CONTACT_COLUMNS, contacts)
                _copy(conn, "customer_search", SEARCH_COLUMNS, searches)
                done = first + count - 1
                if done * 10 // total > done_at * 10 // total or done == total:
                    elapsed = time.perf_counter() - started
                    print(
                        f"  copied {done:>9,} customers  {elapsed:7.1f} s  {done / elapsed:8,.0f} customers/s",
                        flush=True,
                    )
                done_at = done
        report.copy_s = time.perf_counter() - started

        started = time.perf_counter()
        report.index_build_s = _build_indexes(dsn, definitions)
        report.index_s = time.perf_counter() - started
        rebuilt = secondary_indexes(conn, TABLES)
        if rebuilt != definitions:
            raise RuntimeError("the rebuilt indexes differ from the migration's")

        # Ids were supplied explicitly: move the sequences past them. The code counter must
        # follow too, or the next customer created through the API would probe a million
        # taken codes before finding a free one.
        conn.execute("SELECT setval(pg_get_serial_sequence('customers', 'id'), %s)", [total])
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('customer_contacts', 'id'), %s)",
            [total * CONTACTS_PER_CUSTOMER],
        )
        conn.execute(
            "INSERT INTO code_sequences (tenant_id, name, last_value) VALUES (%s, 'customer', %s)",
            [generator.tenant_id, total],
        )

        started = time.perf_counter()
        conn.execute("VACUUM (ANALYZE) customers, customer_contacts, customer_search")
        report.vacuum_s = time.perf_counter() - started

        for relation, expression in (
            ("customers (table + TOAST)", "pg_table_size('customers')"),
            ("customer_contacts (table)", "pg_table_size('customer_contacts')"),
            ("customer_search (table + TOAST)", "pg_table_size('customer_search')"),
            (GIN_INDEX, f"pg_relation_size('{GIN_INDEX}')"),
            ("all indexes", " + ".join(f"pg_indexes_size('{table}')" for table in TABLES)),
        ):
            size = conn.execute(f"SELECT pg_size_pretty(({expression})::bigint)").fetchone()
            report.sizes[relation] = str(size[0]) if size else "?"
    return report


# ---------------------------------------------------------------- the API server


@contextlib.contextmanager
def api_server(url: str, *, workers: int, log_path: Path, sql_echo: bool) -> Iterator[str]:
    """``crm serve`` on ``url`` in a subprocess; yields its base URL, stops it afterwards."""
    crm = Path(sys.executable).with_name("crm")
    executable = str(crm) if crm.exists() else shutil.which("crm")
    if executable is None:
        raise RuntimeError("the crm command was not found; run `uv sync` first")
    port = free_port()
    env = {
        **os.environ,
        "CRM_DATABASE_URL": url,
        "CRM_SECRET_KEY": "bench-secret-key-for-a-throwaway-cluster-only",
        "CRM_SQL_ECHO": "true" if sql_echo else "false",
        # The benchmark measures latency, not the per-token limit it would otherwise hit, nor
        # scheduled jobs (in production a Celery worker runs them; in process the nightly value
        # refresh of every customer would run at the server's first start of the day).
        "CRM_API_RATE_LIMIT_PER_MINUTE": "100000000",
        "CRM_API_RATE_LIMIT_PER_USER_MINUTE": "100000000",
        "CRM_API_RATE_LIMIT_PER_TENANT_MINUTE": "100000000",
        "CRM_RUN_JOBS_IN_PROCESS": "false",
    }
    command = [executable, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"crm serve exited with {process.returncode}; see {log_path}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/api/openapi.json", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"crm serve did not answer within 60 s; see {log_path}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def login(base: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/login", data={"username": ADMIN, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


# ---------------------------------------------------------------- scenarios


Call = tuple[str, dict[str, str]]  # path, query parameters


@dataclass
class Scenario:
    key: str
    title: str
    target_p95_ms: float
    search: bool
    calls: list[Call]


@dataclass
class Outcome:
    scenario: Scenario
    latencies_ms: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    slowest: tuple[float, Call] | None = None


SEARCH = "/api/v1/crm/customers/search"


def build_scenarios(samples: list[Sample], total: int, count: int, rng: random.Random) -> list[Scenario]:
    enterprises = [s for s in samples if s.stem and len([c for c in s.stem if _is_cjk(c)]) >= 2]
    if not enterprises:
        raise RuntimeError("no sampled enterprise customers; raise --sample")

    def substring() -> Call:
        stem = rng.choice(enterprises).stem or ""
        pairs = [stem[i : i + 2] for i in range(len(stem) - 1) if _is_cjk(stem[i]) and _is_cjk(stem[i + 1])]
        return SEARCH, {"keyword": rng.choice(pairs)}

    def prefix() -> Call:
        return SEARCH, {"keyword": rng.choice(samples).name[: rng.choice((3, 4))]}

    def phone_tail() -> Call:
        return SEARCH, {"keyword": rng.choice(rng.choice(samples).phones)[-4:]}

    def profile() -> Call:
        return f"/api/v1/crm/customers/{rng.randint(1, total)}", {}

    makers = (
        ("search_substring", "search: 2-char substring of a name", TARGET_SEARCH_P95_MS, True, substring),
        ("search_prefix", "search: name prefix (3-4 chars)", TARGET_SEARCH_P95_MS, True, prefix),
        ("search_phone_tail", "search: last 4 digits of a phone", TARGET_SEARCH_P95_MS, True, phone_tail),
        ("profile", "profile: GET /customers/{id}", TARGET_PROFILE_P95_MS, False, profile),
    )
    return [
        Scenario(key=key, title=title, target_p95_ms=target, search=is_search, calls=[make() for _ in range(count)])
        for key, title, target, is_search, make in makers
    ]


def run_scenario(client: httpx.Client, scenario: Scenario, warmup: int) -> Outcome:
    """Sequential requests; the first ``warmup`` calls are not measured."""
    outcome = Outcome(scenario)
    for index, (path, params) in enumerate(scenario.calls):
        started = time.perf_counter()
        response = client.get(path, params=params)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params} answered {response.status_code}: {response.text[:300]}")
        if index < warmup:
            continue
        outcome.latencies_ms.append(elapsed_ms)
        if scenario.search:
            outcome.totals.append(int(response.json()["total"]))
        if outcome.slowest is None or elapsed_ms > outcome.slowest[0]:
            outcome.slowest = (elapsed_ms, (path, params))
    return outcome


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: a latency that was actually observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarise(outcome: Outcome) -> dict[str, Any]:
    lat = outcome.latencies_ms
    summary: dict[str, Any] = {
        "title": outcome.scenario.title,
        "requests": len(lat),
        "p50_ms": round(percentile(lat, 50), 2),
        "p95_ms": round(percentile(lat, 95), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "max_ms": round(max(lat), 2),
        "mean_ms": round(sum(lat) / len(lat), 2),
        "target_p95_ms": outcome.scenario.target_p95_ms,
    }
    summary["meets_target"] = summary["p95_ms"] < outcome.scenario.target_p95_ms
    if outcome.totals:
        summary["mean_total"] = round(sum(outcome.totals) / len(outcome.totals), 1)
        summary["max_total"] = max(outcome.totals)
        # Every keyword was taken from loaded data, so each search must find something.
        summary["empty_results"] = sum(1 for t in outcome.totals if t == 0)
    if outcome.slowest:
        summary["slowest_call"] = {
            "ms": round(outcome.slowest[0], 2),
            "path": outcome.slowest[1][0],
            "params": outcome.slowest[1][1],
        }
    return summary


def print_table(summaries: dict[str, dict[str, Any]]) -> None:
    header = f"{'scenario':<38} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean total':>11}  target p95"
    print(header)
    print("-" * len(header))
    for summary in summaries.values():
        total = f"{summary['mean_total']:>11,.1f}" if "mean_total" in summary else f"{'':>11}"
        verdict = "ok" if summary["meets_target"] else "MISSED"
        print(
            f"{summary['title']:<38} {summary['requests']:>5} {summary['p50_ms']:>8.1f} {summary['p95_ms']:>8.1f} "
            f"{summary['p99_ms']:>8.1f} {total}  < {summary['target_p95_ms']:.0f} ms {verdict}"
        )


# ---------------------------------------------------------------- EXPLAIN of the app's own SQL


def explain_search(url: str, admin_id: int, keyword: str) -> dict[str, str]:
    """EXPLAIN ANALYZE every statement the search service really runs for ``keyword``."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            admin = session.get(User, admin_id)
            assert admin is not None
            with captured_sql(engine) as statements:
                search_customers(session, actor_for(admin), CustomerFilters(keyword=keyword))
            session.rollback()
            plans = explain_all(
                session.connection(), statements, keep=lambda sql: "FROM customers" in sql, analyze=True
            )
            return {f"statement {n}": f"{sql}\n\n{plan}" for n, (sql, plan) in enumerate(plans, 1)}
    finally:
        engine.dispose()


# ---------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.customers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to load (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per scenario (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured requests per scenario first (default 50)")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--seed", type=int, default=20261125, help="random seed, for repeatable data")
    parser.add_argument("--sample", type=int, default=5_000, help="customers remembered for query values")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="EXPLAIN ANALYZE each search scenario's slowest query (also done on a miss)",
    )
    parser.add_argument("--sql-echo", action="store_true", help="run the server with CRM_SQL_ECHO=true")
    parser.add_argument("--output", type=Path, default=RESULTS_FILE, help=f"JSON results (default {RESULTS_FILE})")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.requests < 1 or args.warmup < 0:
        parser.error("--customers and --requests must be positive, --warmup not negative")
    return args


def use_throwaway_keys() -> None:
    """Keys for a throwaway cluster, shared with the server subprocess through the environment."""
    os.environ.setdefault("CRM_ENCRYPTION_KEYS", f"bench={new_key()}")
    os.environ.setdefault("CRM_BLIND_INDEX_KEY", new_key())
    settings.encryption_keys = os.environ["CRM_ENCRYPTION_KEYS"]
    settings.blind_index_key = os.environ["CRM_BLIND_INDEX_KEY"]


def _prepare() -> None:
    _check_phone_prefixes()
    use_throwaway_keys()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    exit_on_sigterm()  # a killed benchmark still stops its server and removes its cluster
    total: int = args.customers
    rng = random.Random(args.seed)
    _prepare()
    started = time.perf_counter()
    pools = Pools.build(args.seed)

    with postgres_server(extra_conf=PG_CONF) as url:
        upgrade(url)
        users = create_users(url, pools, rng)
        reps = sum(len(ids) for ids in users.sales_by_region.values())
        print(f"PostgreSQL at {url}; migrated; tenant, admin and {reps} sales users created")

        sample_ids = set(rng.sample(range(1, total + 1), min(total, args.sample)))
        generator = Generator(
            pools, seed=args.seed, total=total, tenant_id=users.tenant_id, admin_id=users.admin_id,
            sales_by_region=users.sales_by_region, sample_ids=sample_ids,
        )  # fmt: skip
        print(f"loading {total:,} customers and {total * CONTACTS_PER_CUSTOMER:,} contacts by COPY …", flush=True)
        report = load(url, generator, total)
        rows = report.customers + report.contacts
        print(
            f"load: COPY {report.copy_s:.1f} s ({rows / report.copy_s:,.0f} rows/s), "
            f"indexes {report.index_s:.1f} s, VACUUM ANALYZE {report.vacuum_s:.1f} s; "
            f"total {report.total_s:.1f} s ({rows / report.total_s:,.0f} rows/s)"
        )
        for name, seconds in sorted(report.index_build_s.items(), key=lambda item: -item[1]):
            print(f"  {name:<40} {seconds:7.1f} s")
        print("  sizes: " + ", ".join(f"{name} {size}" for name, size in report.sizes.items()))

        scenarios = build_scenarios(generator.samples, total, args.warmup + args.requests, rng)
        log_path = args.output.parent / "customers-server.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with api_server(url, workers=args.server_workers, log_path=log_path, sql_echo=args.sql_echo) as base:
            token = login(base)
            headers = {"Authorization": f"Bearer {token}"}
            outcomes: list[Outcome] = []
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                for scenario in scenarios:
                    print(f"running {scenario.title} …", flush=True)
                    outcomes.append(run_scenario(client, scenario, args.warmup))

        summaries = {o.scenario.key: summarise(o) for o in outcomes}
        print()
        contacts = total * CONTACTS_PER_CUSTOMER
        print(f"{total:,} customers, {contacts:,} contacts; {args.requests} sequential requests per scenario")
        print_table(summaries)
        for key, summary in summaries.items():
            if summary.get("empty_results"):
                print(f"WARNING: {summary['empty_results']} searches of {key} found nothing")

        plans: dict[str, dict[str, str]] = {}
        for outcome in outcomes:
            summary = summaries[outcome.scenario.key]
            if outcome.scenario.search and outcome.slowest and (args.explain or not summary["meets_target"]):
                keyword = outcome.slowest[1][1]["keyword"]
                plans[outcome.scenario.key] = explain_search(url, users.admin_id, keyword)
                print(
                    f"\n=== EXPLAIN ANALYZE, slowest {outcome.scenario.key} keyword {keyword!r} "
                    f"({outcome.slowest[0]:.1f} ms over HTTP) ==="
                )
                for name, plan in plans[outcome.scenario.key].items():
                    print(f"--- {name} query ---\n{plan}\n")

        with psycopg.connect(conninfo(url)) as conn:
            version_row = conn.execute("SHOW server_version").fetchone()

    results = {
        "benchmark": "customers",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": total,
        "contacts": total * CONTACTS_PER_CUSTOMER,
        "requests_per_scenario": args.requests,
        "warmup_per_scenario": args.warmup,
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": version_row[0] if version_row else None,
            "server_workers": args.server_workers,
            "postgresql_conf": PG_CONF,
        },
        "load": {
            "copy_s": round(report.copy_s, 1),
            "index_s": round(report.index_s, 1),
            "vacuum_analyze_s": round(report.vacuum_s, 1),
            "total_s": round(report.total_s, 1),
            "rows_per_s": round((report.customers + report.contacts) / report.total_s),
            "index_build_s": {k: round(v, 1) for k, v in report.index_build_s.items()},
            "sizes": report.sizes,
        },
        "scenarios": summaries,
        "explain": plans,
        "wall_clock_s": round(time.perf_counter() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(f"\nresults written to {args.output} (wall clock {results['wall_clock_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
