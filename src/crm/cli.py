"""The ``crm`` command: serve, migrate, manage users, load demo data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from crm.config import settings
from crm.kit.regions import Region
from crm.models.enums import Role

app = typer.Typer(help="CRM 客户关系管理 — command line", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema", no_args_is_help=True)
user_app = typer.Typer(help="Users", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants (brands or companies whose data is kept apart)", no_args_is_help=True)
keys_app = typer.Typer(help="Keys that encrypt personal data at rest", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled jobs", no_args_is_help=True)
orders_app = typer.Typer(help="Orders and receivables from the order system and finance", no_args_is_help=True)
model_app = typer.Typer(help="The churn model (§10.2)", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail (§9.2)", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(demo_app, name="demo")
app.add_typer(tenant_app, name="tenant")
app.add_typer(keys_app, name="keys")
app.add_typer(jobs_app, name="jobs")
app.add_typer(orders_app, name="orders")
app.add_typer(model_app, name="model")
app.add_typer(audit_app, name="audit")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (CRM_HOST)")] = settings.host,
    port: Annotated[int, typer.Option(help="Port (CRM_PORT)")] = settings.port,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (CRM_WORKERS; default: 1 on SQLite, one per CPU on PostgreSQL)")
    ] = None,
) -> None:
    """Serve the API (and the web UI) with uvicorn."""
    import uvicorn

    from crm.kit.db import make_engine
    from crm.kit.migrate import is_up_to_date

    engine = make_engine(settings.database_url)
    try:
        if not is_up_to_date(engine):
            _fail(
                "数据库尚未迁移到最新版本，请先运行 `crm db upgrade`。\n"
                "The database is not migrated to the latest version; run `crm db upgrade` first."
            )
    finally:
        engine.dispose()
    uvicorn.run(
        "crm.app:served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or settings.api_workers,
        # A worker answers its supervisor only once the application is imported and started,
        # which takes seconds on a busy machine; uvicorn's 5 s default restarts it in a loop.
        timeout_worker_healthcheck=60,
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration up to the latest (safe to run again), as CRM_DATABASE_OWNER_URL's user
    when set, then grant the application's user (CRM_DATABASE_URL's) what it needs."""
    from sqlalchemy.engine import make_url

    from crm.kit.db import make_engine
    from crm.kit.migrate import grant_application, upgrade

    owner_url = settings.database_owner_url or settings.database_url
    upgrade(owner_url)
    typer.echo("数据库已是最新版本 / database is up to date")
    application, owner = make_url(settings.database_url), make_url(owner_url)
    if application.get_backend_name() == "postgresql" and application.username != owner.username:
        engine = make_engine(owner_url)
        try:
            grant_application(engine, application.username or "")
        finally:
            engine.dispose()
        typer.echo(
            f"已授予应用账号 {application.username} 所需权限（审计日志只读、只追加） / "
            f"granted {application.username} the application's privileges (audit trail: read and append only)"
        )


@user_app.command("create")
def user_create(  # noqa: PLR0917 - Typer maps each option to a parameter
    username: Annotated[str, typer.Option(help="Login name, unique within the tenant")],
    password: Annotated[str, typer.Option(help="At least 12 characters")],
    role: Annotated[Role, typer.Option(help="Role")],
    region: Annotated[Region | None, typer.Option(help="Sales region, e.g. 华东")] = None,
    tenant: Annotated[str, typer.Option(help="Tenant code; created when unknown")] = "default",
    display_name: Annotated[str | None, typer.Option(help="Name shown in the UI")] = None,
    team: Annotated[str | None, typer.Option(help="Team name")] = None,
) -> None:
    """Create a user in a tenant."""
    from crm.kit.db import make_engine, make_session_factory, unit_of_work
    from crm.kit.errors import CRMError
    from crm.users.service import create_user, get_or_create_tenant

    engine = make_engine(settings.database_url)
    try:
        for session in unit_of_work(make_session_factory(engine)):
            t = get_or_create_tenant(session, tenant)
            user = create_user(
                session,
                tenant=t,
                username=username,
                password=password,
                role=role,
                region=region,
                display_name=display_name,
                team=team,
            )
            typer.echo(f"created user {user.username} (id {user.id}, role {role.value}) in tenant {t.code}")
    except CRMError as error:
        _fail(f"cannot create user: {error.code} {error.params or ''} {[f[:2] for f in error.fields] or ''}")
    finally:
        engine.dispose()


@tenant_app.command("create")
def tenant_create(
    code: Annotated[str, typer.Option(help="Short code, e.g. acme")],
    name: Annotated[str | None, typer.Option(help="Name shown to users, e.g. 某某集团")] = None,
) -> None:
    """Create a tenant with the national province → region mapping."""
    from crm.kit.db import make_engine, make_session_factory, unit_of_work
    from crm.kit.errors import CRMError
    from crm.users.service import create_tenant

    if not code.strip() or len(code) > 32 or not code.replace("-", "").replace("_", "").isalnum():
        _fail("the tenant code is 1–32 letters, digits, - or _")
    engine = make_engine(settings.database_url)
    try:
        for session in unit_of_work(make_session_factory(engine)):
            tenant = create_tenant(session, code.strip(), name)
            typer.echo(f"created tenant {tenant.code} (id {tenant.id}): {tenant.name}")
    except CRMError as error:
        _fail(f"cannot create tenant: {error.code} {error.params or ''}")
    finally:
        engine.dispose()


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random 256-bit key for CRM_ENCRYPTION_KEYS or CRM_BLIND_INDEX_KEY."""
    from crm.kit.crypto import new_key

    typer.echo(new_key())


@keys_app.command("status")
def keys_status() -> None:
    """Show the configured keys, the active one, and how many stored values and attachment files each encrypts."""
    from crm.interactions.attachments import DAMAGED, file_key_usage
    from crm.kit.crypto import key_usage, keyring
    from crm.kit.db import make_engine, make_session_factory
    from crm.models import Base

    ring = keyring()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            usage = key_usage(session, Base.metadata)
    finally:
        engine.dispose()
    files = file_key_usage()
    source = "CRM_ENCRYPTION_KEYS" if settings.encryption_keys else str(settings.var_dir / "keys.json")
    typer.echo(f"keys from {source}; active key: {ring.active}")
    for key_id in sorted(set(ring.keys) | set(usage) | {k for k in files if k not in {None, DAMAGED}}):
        state = "active" if key_id == ring.active else ("configured" if key_id in ring.keys else "MISSING")
        typer.echo(f"  {key_id:<12} {state:<10} {usage.get(key_id, 0):>10} values {files.get(key_id, 0):>8} files")
    if files.get(None):
        typer.echo(f"{files[None]} attachment files are stored unencrypted: `crm keys rotate` encrypts them")
    if files.get(DAMAGED):
        typer.echo(f"{files[DAMAGED]} attachment files are damaged (their header is cut short)")
    retired = [k for k in ring.keys if k != ring.active and not usage.get(k) and not files.get(k)]
    if retired:
        typer.echo(f"no value is encrypted under {', '.join(retired)} any more: it can be removed")


@keys_app.command("rotate")
def keys_rotate(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per transaction")] = 1000,
    new_key: Annotated[
        bool, typer.Option("--new-key/--no-new-key", help="Embedded key file only: add a key and make it active first")
    ] = True,
) -> None:
    """Re-encrypt every stored value and attachment file under the active key, in batches; safe to interrupt and rerun.

    With CRM_ENCRYPTION_KEYS, add the new key to the list and make it active
    (CRM_ENCRYPTION_ACTIVE_KEY) on every process first, then run this; remove the old key
    once `crm keys status` shows it encrypts nothing. With the embedded key file, this adds
    the new key itself.
    """
    from crm.interactions.attachments import reseal_files
    from crm.kit.crypto import add_file_key, keyring, rotate_keys, use_keyring
    from crm.kit.db import make_engine, make_session_factory
    from crm.models import Base

    if not settings.encryption_keys and new_key:
        key_id = add_file_key(settings.var_dir)
        use_keyring(None)
        typer.echo(f"added key {key_id} to {settings.var_dir / 'keys.json'} and made it active")
    typer.echo(f"re-encrypting under {keyring().active} …")
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            counts = rotate_keys(session, Base.metadata, batch=batch)
    finally:
        engine.dispose()
    for table, count in counts.items():
        typer.echo(f"  {table}: {count} rows re-encrypted")
    resealed, unreadable = reseal_files()
    typer.echo(f"  attachment files: {resealed} re-encrypted")
    if unreadable:
        _fail(
            f"{len(unreadable)} attachment files do not open (damaged, altered or under a missing key), "
            f"left as they are: {', '.join(str(p) for p in unreadable[:10])}"
        )


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="A job name, `all` (the frequent ones) or `nightly`")] = "all",
) -> None:
    """Run scheduled jobs now, exactly as the scheduler would (reminders, …; nightly: value refresh, …)."""
    from crm.jobs import JOBS, NIGHTLY, run_job
    from crm.kit.db import make_engine, make_session_factory

    names = list(JOBS) if name == "all" else list(NIGHTLY) if name == "nightly" else [name]
    unknown = [n for n in names if n not in JOBS and n not in NIGHTLY]
    if unknown:
        _fail(f"unknown job {unknown[0]!r}; jobs: {', '.join([*JOBS, *NIGHTLY])}, all, nightly")
    engine = make_engine(settings.database_url)
    try:
        factory = make_session_factory(engine)
        for job in names:
            typer.echo(f"{job}: {run_job(factory, job)}")
    finally:
        engine.dispose()


def _celery_app() -> Any:
    """The configured Celery app with every task imported; exits when there is no broker."""
    if settings.redis_url is None:
        _fail(
            "未设置 CRM_REDIS_URL：没有消息队列时，定时任务在 API 进程内运行（`crm serve`），无需 worker 或 beat。\n"
            "CRM_REDIS_URL is not set: without a broker the scheduled jobs run inside the API process "
            "(`crm serve`); no worker or beat is needed."
        )
    import crm.jobs  # noqa: F401 - registers every task
    from crm.kit.tasks import configure

    app = configure()
    app.loader.import_default_modules()
    return app


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="并发进程数，默认每个 CPU 一个 / Worker processes (default: one per CPU)")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="日志级别 / Log level")] = "info",
) -> None:
    """运行后台任务 worker（需要 CRM_REDIS_URL） / Run the Celery worker for background jobs (needs CRM_REDIS_URL)."""
    celery = _celery_app()
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency or os.cpu_count() or 1}"]
    celery.worker_main(argv)


@app.command()
def beat(
    loglevel: Annotated[str, typer.Option(help="日志级别 / Log level")] = "info",
) -> None:
    """运行定时任务调度器 beat（需要 CRM_REDIS_URL） / Run Celery beat, which sends the job schedule."""
    celery = _celery_app()
    schedule_file = settings.var_dir / "celerybeat-schedule"
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    celery.start(["beat", f"--loglevel={loglevel}", f"--schedule={schedule_file}"])


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="Tenant code (default: every tenant)")] = None,
) -> None:
    """Recompute the audit trail's seals: report every record changed or deleted around the application."""
    from crm.audit.service import verify_trail
    from crm.kit.db import make_engine, make_session_factory

    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            results = verify_trail(session, tenant)
    finally:
        engine.dispose()
    if results is None:
        _fail(f"租户不存在 / no tenant with code {tenant!r}")
        return
    problems = 0
    for found in results:
        name = "(no tenant)" if found.tenant_id is None else f"tenant {found.tenant_id}"
        state = "完好 intact" if not found.problems else f"{len(found.problems)} 处异常 problems"
        typer.echo(f"{name}: {found.records} records, {state}; head {found.head[:16]}")
        for problem in found.problems[:50]:
            typer.echo(f"  {problem}")
        if len(found.problems) > 50:
            typer.echo(f"  … and {len(found.problems) - 50} more")
        problems += len(found.problems)
    if problems:
        raise typer.Exit(1)


# Every demo account shares a published password: it goes into a database only when that is
# plainly a throwaway one, or when the operator says so.
DEMO_NOT_ON_POSTGRESQL = (
    "演示数据默认只写入 SQLite 数据库（演示账号使用公开的密码），未写入此 PostgreSQL 数据库；"
    "如确需写入，请运行 `crm demo load --yes-on-postgresql`。\n"
    "Demo data goes only into SQLite by default (its accounts share a published password), so none "
    "was loaded into this PostgreSQL database; to load it anyway, run `crm demo load --yes-on-postgresql`."
)
DEMO_NOT_NEW = (
    "数据库中已有用户，未加载演示数据。\n"
    "The database already has users: no demo data was loaded (it goes only into a new database)."
)


@demo_app.command("load")
def demo_load(
    customers: Annotated[int, typer.Option(help="How many customers")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed, for repeatable data")] = 20261125,
    if_empty: Annotated[
        bool,
        typer.Option("--if-empty", help="Only into a new database: do nothing (and succeed) if it has any user"),
    ] = False,
    yes_on_postgresql: Annotated[
        bool, typer.Option("--yes-on-postgresql", help="Load into PostgreSQL too (never done otherwise)")
    ] = False,
) -> None:
    """Load realistic zh-CN demo data into the tenant `default` (SQLite; PostgreSQL only when asked)."""
    from crm.demo import DEMO_ADMIN, DEMO_LOGIN, DEMO_TENANT, load_demo
    from crm.kit.db import is_embedded, make_engine, make_session_factory, unit_of_work
    from crm.users.repository import any_user, tenant_by_code, user_by_username

    engine = make_engine(settings.database_url)
    try:
        if not is_embedded(engine) and not yes_on_postgresql:
            if if_empty:
                typer.echo(DEMO_NOT_ON_POSTGRESQL)
                return
            _fail(DEMO_NOT_ON_POSTGRESQL)
        for session in unit_of_work(make_session_factory(engine)):
            tenant = tenant_by_code(session, DEMO_TENANT)
            if tenant is not None and user_by_username(session, tenant.id, DEMO_ADMIN) is not None:
                if if_empty:
                    typer.echo("演示数据已加载 / demo data already loaded")
                    typer.echo(DEMO_LOGIN)
                    return
                _fail("demo data is already loaded (user admin exists)")
            if if_empty and any_user(session):
                typer.echo(DEMO_NOT_NEW)
                return
            summary = load_demo(session, customers=customers, seed=seed)
            typer.echo(summary)
            typer.echo(DEMO_LOGIN)
    finally:
        engine.dispose()


if __name__ == "__main__":
    app()


@orders_app.command("import")
def orders_import(
    file: Annotated[Path, typer.Argument(help="A CSV of orders (one row per item) or of receivables")],
    tenant: Annotated[str, typer.Option(help="Tenant code")] = "default",
    as_user: Annotated[
        str | None, typer.Option("--as", help="The admin account the feed runs as (default: the first admin)")
    ] = None,
) -> None:
    """Back-fill orders or receivables from CSV, through the same rules as the API (safe to re-run)."""
    from crm.auth.accounts import actor_for
    from crm.kit.db import make_engine, make_session_factory
    from crm.models import Tenant, User
    from crm.orders.importer import ImportRefused, import_file

    if not file.is_file():
        _fail(f"no such file: {file}")
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            stmt = (
                select(User)
                .join(Tenant, Tenant.id == User.tenant_id)
                .where(Tenant.code == tenant, User.role == Role.ADMIN, User.is_active.is_(True))
            )
            user = session.scalars(
                stmt.where(User.username == as_user) if as_user else stmt.order_by(User.id).limit(1)
            ).first()
            if user is None:
                _fail(f"no active admin {as_user or ''} in tenant {tenant!r}")
                return
            actor = actor_for(user)
        report = import_file(factory, actor, file)
        counts = ", ".join(f"{name} {count}" for name, count in report.counts.items())
        typer.echo(f"imported {report.rows} {report.kind}: {counts}")
    except ImportRefused as refused:
        _fail(f"not imported: {refused}")
    finally:
        engine.dispose()


@model_app.command("train")
def model_train(
    tenant: Annotated[str | None, typer.Option(help="Tenant code (default: every active tenant)")] = None,
) -> None:
    """Train and evaluate the churn model on each tenant's history and store it with its metrics."""
    from sqlalchemy import select

    from crm.analytics.prediction import train
    from crm.kit.db import make_engine, make_session_factory, unit_of_work
    from crm.models import Tenant

    engine = make_engine(settings.database_url)
    try:
        for session in unit_of_work(make_session_factory(engine)):
            query = select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.id)
            if tenant is not None:
                query = query.where(Tenant.code == tenant)
            found = list(session.scalars(query))
            if not found:
                _fail(f"no active tenant {tenant!r}" if tenant else "no active tenant")
            for each in found:
                model = train(session, each.id)
                metrics = model.metrics
                typer.echo(
                    f"{each.code}: {'usable' if model.usable else 'not used'} — {metrics.get('message', '')}; "
                    f"train {metrics.get('train_rows')} rows, test {metrics.get('test_rows')} rows"
                )
    finally:
        engine.dispose()
