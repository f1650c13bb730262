"""Runtime settings, read once from ``CRM_*`` environment variables and an optional ``.env``."""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/crm.db",
        description="SQLAlchemy URL; SQLite for the embedded mode, postgresql+psycopg://… in production.",
    )
    # The URL `crm db upgrade` migrates with: the owner of the tables. When it is set (and names
    # another user than CRM_DATABASE_URL), the upgrade grants the application's user what it
    # needs and no more: on the audit trail, SELECT and INSERT only. PostgreSQL only.
    database_owner_url: str | None = None
    redis_url: str | None = None
    # Left empty, a random key is generated once and kept in var/secret_key, so that an
    # embedded install is never signed with a key published in this repository.
    secret_key: str | None = None
    var_dir: Path = Path("var")
    # Keys for personal data at rest (see crm.kit.crypto): "id=base64key,…", the id of the key
    # new values are written with (default: the last listed), and the separate blind-index key.
    # Left empty, keys are generated once into var/keys.json.
    encryption_keys: str | None = None
    encryption_active_key: str | None = None
    blind_index_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # The address customers reach the CRM at, for links sent to them (satisfaction surveys);
    # left unset, http://HOST:PORT.
    public_url: str | None = None
    # API worker processes of `crm serve` (0: one for SQLite, whose writers queue on one file,
    # one per CPU for PostgreSQL).
    workers: int = Field(default=0, ge=0, le=64)
    access_token_minutes: int = 60 * 8
    # Each API process keeps the signed-in users it has read for at most this long, and asks the
    # database this often what changed on other processes (a new password, a role, a sign-out).
    auth_cache_seconds: float = Field(default=30.0, ge=0, le=3600)
    auth_refresh_seconds: float = Field(default=2.0, ge=0, le=60)
    default_timezone: str = "Asia/Shanghai"
    default_page_size: int = 20
    max_page_size: int = 100
    # Keyword matches are ranked (exact, name prefix, other) when there are at most this many;
    # beyond it, exact matches come first and the rest newest first.
    search_rank_limit: int = 1_000
    sql_echo: bool = False
    # Database connections each API process keeps (pool) and may add under load (overflow), and
    # how long a request waits for one before it is answered 503.
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # How long an API request waits for a row another transaction holds (PostgreSQL) before it
    # is answered 503: a stuck writer must not hang everyone behind it.
    db_lock_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # API requests one process works on at once; more wait in line, up to request_queue_limit of
    # them for at most request_queue_seconds, and are otherwise answered 503 with Retry-After.
    # Few: the process is CPU-bound, and each more request in flight is one more thread contending
    # for the interpreter lock; more help only when requests wait on slow queries. At most the
    # pool's size, so that requests never open and close overflow connections.
    max_concurrent_requests: int = Field(default=4, ge=1, le=400)
    request_queue_limit: int = Field(default=256, ge=0)
    request_queue_seconds: float = Field(default=5.0, gt=0, le=120)
    # Sign-in throttling, failures within the window: this many lock an account from one address;
    # an account from anywhere (guesses spread over many addresses), and an address for every
    # account (one office behind one NAT), lock at the higher counts.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_account: int = Field(default=20, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_window_minutes: int = 15
    # Requests per minute one access token, one user (all their tokens) and one tenant (all its
    # users) may make; shared across workers through Redis.
    api_rate_limit_per_minute: int = 600
    api_rate_limit_per_user_minute: int = 1200
    api_rate_limit_per_tenant_minute: int = 30_000
    max_body_bytes: int = 1_048_576
    # Exports per user per business day, and the size above which some roles need approval.
    export_daily_limit: int = 20
    export_approval_threshold: int = 1_000
    # An approved large export can be downloaded once by its requester within this many days.
    export_approval_valid_days: int = 7
    # Interaction attachments: where the files are kept (relative to var_dir unless absolute), limits.
    attachment_dir: Path = Path("attachments")
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_max_count: int = 20
    # A resolved ticket can be reopened within this many days.
    ticket_reopen_days: int = 7
    # Scheduled jobs (reminders, …) run inside the API process when no Celery worker runs them.
    run_jobs_in_process: bool = True
    jobs_interval_seconds: int = 300
    # The nightly chain's period: unset, once a day after 01:00 tenant time; a number of seconds
    # shortens it (for tests and trials).
    nightly_period_seconds: int | None = None
    # More modules `crm worker` imports tasks from, comma-separated (tests register theirs this way).
    extra_task_modules: str = ""
    # PostgreSQL's work_mem for the nightly value refresh's statements, which group every order
    # and join a million rows: at the server's usual few MB they spill to disk in batches.
    nightly_work_mem: str = Field(default="256MB", pattern=r"^[1-9][0-9]{0,6}(kB|MB|GB)$")

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("CRM_SECRET_KEY must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @cached_property
    def signing_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key

    @property
    def public_base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def api_workers(self) -> int:
        return self.workers or (1 if self.is_sqlite else os.cpu_count() or 1)

    @property
    def request_slots(self) -> int:
        return min(self.max_concurrent_requests, self.db_pool_size)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


settings = Settings()
