"""audit trail sealed: a per-tenant chain of HMAC seals; redaction and ANALYZE through the owner's functions

Each audit record gets its number in its tenant's chain, the hash of its body and a seal linking
it to the record before it (crm.kit.seal); the records written so far are sealed here, in the
order they were written. On PostgreSQL the application is meant to connect as a role that may
only SELECT and INSERT audit records (`crm db upgrade` grants it that when it runs as the owner):

* ``crm_redact_audit_log`` (the owner's, SECURITY DEFINER) is how erasure blanks personal values;
  the trigger lets an update through only when it blanks values in place and touches nothing
  else, so not even the owner's function can write new content;
* ``crm_analyze`` refreshes the statistics of the value snapshots after the nightly refresh,
  which only a table's owner may do.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-04 17:00:00.000000
"""

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from alembic import op

from crm.audit.service import sealed_fields
from crm.kit.crypto import keyring
from crm.kit.seal import GENESIS, body_hash, seal
from crm.kit.types import BigIntId, JSONType, UTCDateTime

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ERASED = "［已删除］"  # what redaction writes in place of a personal value (crm.privacy)
UNCHANGED = (
    "id", "tenant_id", "actor_id", "actor_name", "action", "object_type", "object_id", "request_id", "ip",
    "user_agent", "created_at", "seq", "body_hash", "seal",
)  # fmt: skip
BATCH = 5_000
# Any number of redactions (one per erasure that finds its person), their stamps never going back.
STAMPED = "NEW.redacted_at IS NOT NULL AND (OLD.redacted_at IS NULL OR NEW.redacted_at >= OLD.redacted_at)"

audit_logs = sa.table(
    "audit_logs",
    sa.column("id", BigIntId),
    sa.column("tenant_id", BigIntId),
    sa.column("actor_id", BigIntId),
    sa.column("actor_name", sa.String),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", BigIntId),
    sa.column("changes", JSONType),
    sa.column("detail", JSONType),
    sa.column("request_id", sa.String),
    sa.column("ip", sa.String),
    sa.column("user_agent", sa.String),
    sa.column("created_at", UTCDateTime()),
    sa.column("seq", BigIntId),
    sa.column("body_hash", sa.String),
    sa.column("seal", sa.String),
)


def upgrade() -> None:
    # Plain ADD COLUMN on SQLite too: a batch rebuild would drop the table's trigger.
    op.add_column("audit_logs", sa.Column("seq", BigIntId, nullable=True))
    op.add_column("audit_logs", sa.Column("body_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_logs", sa.Column("seal", sa.String(length=64), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_logs_no_update")
    _seal_what_exists()
    op.create_index("ix_audit_logs_tenant_seq", "audit_logs", ["tenant_id", "seq"], unique=True)
    if postgresql:
        op.execute("ALTER TABLE audit_logs ENABLE TRIGGER audit_logs_no_update")
        _postgresql_functions()
    else:
        _sqlite_trigger()


def _seal_what_exists() -> None:
    bind = op.get_bind()
    key = keyring().seal_key
    tenants = [row[0] for row in bind.execute(sa.select(audit_logs.c.tenant_id).distinct())]
    for tenant_id in tenants:
        which = audit_logs.c.tenant_id.is_(None) if tenant_id is None else audit_logs.c.tenant_id == tenant_id
        seq, previous, last_id = 0, GENESIS, 0
        while True:
            rows = bind.execute(
                sa.select(audit_logs).where(which, audit_logs.c.id > last_id).order_by(audit_logs.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            sealed: list[dict[str, Any]] = []
            for row in rows:
                seq += 1
                entry = SimpleNamespace(**row._mapping)
                entry.seq, entry.body_hash = seq, body_hash(row.changes, row.detail)
                previous = seal(key, previous, sealed_fields(entry))  # type: ignore[arg-type]
                sealed.append({"row_id": row.id, "seq": seq, "hash": entry.body_hash, "seal": previous})
            bind.execute(
                audit_logs.update()
                .where(audit_logs.c.id == sa.bindparam("row_id"))
                .values(seq=sa.bindparam("seq"), body_hash=sa.bindparam("hash"), seal=sa.bindparam("seal")),
                sealed,
            )
            last_id = rows[-1].id


def _postgresql_functions() -> None:
    unchanged = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in UNCHANGED)
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION audit_only_blanked(old jsonb, new jsonb) RETURNS boolean
        LANGUAGE plpgsql IMMUTABLE AS $$
        DECLARE
            k text;
            i integer;
            pattern text;
        BEGIN
            -- SQL NULL and JSON null are one "nothing" here: the ORM writes None as JSON null.
            IF coalesce(new, 'null') = coalesce(old, 'null') THEN RETURN true; END IF;
            IF old IS NULL OR new IS NULL THEN RETURN false; END IF;
            IF jsonb_typeof(old) = 'object' AND jsonb_typeof(new) = 'object' THEN
                IF (SELECT array_agg(x ORDER BY x) FROM jsonb_object_keys(old) AS x)
                   IS DISTINCT FROM (SELECT array_agg(x ORDER BY x) FROM jsonb_object_keys(new) AS x) THEN
                    RETURN false;
                END IF;
                FOR k IN SELECT jsonb_object_keys(old) LOOP
                    IF NOT audit_only_blanked(old -> k, new -> k) THEN RETURN false; END IF;
                END LOOP;
                RETURN true;
            END IF;
            IF jsonb_typeof(old) = 'array' AND jsonb_typeof(new) = 'array' THEN
                IF jsonb_array_length(old) <> jsonb_array_length(new) THEN RETURN false; END IF;
                FOR i IN 0 .. jsonb_array_length(old) - 1 LOOP
                    IF NOT audit_only_blanked(old -> i, new -> i) THEN RETURN false; END IF;
                END LOOP;
                RETURN true;
            END IF;
            -- A value, or parts of a text, replaced by the marker: the new text with each marker
            -- read as "one or more characters" must match the old value, and nothing else may differ.
            IF jsonb_typeof(new) <> 'string' OR position('{ERASED}' IN new #>> '{{}}') = 0 THEN
                RETURN false;
            END IF;
            SELECT '^' || string_agg(regexp_replace(part, '([^[:alnum:]])', '\\\\\\1', 'g'), '.+' ORDER BY n) || '$'
            INTO pattern
            FROM unnest(string_to_array(new #>> '{{}}', '{ERASED}')) WITH ORDINALITY AS parts(part, n);
            RETURN coalesce((old #>> '{{}}') ~ pattern, false);
        END $$;

        CREATE OR REPLACE FUNCTION audit_logs_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {STAMPED} AND {unchanged}
               AND audit_only_blanked(OLD.changes, NEW.changes) AND audit_only_blanked(OLD.detail, NEW.detail) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'audit_logs rows cannot be changed (only personal values can be blanked)';
        END $$;

        CREATE OR REPLACE FUNCTION crm_redact_audit_log(record_id bigint, new_changes jsonb, new_detail jsonb)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            UPDATE audit_logs SET changes = new_changes, detail = new_detail, redacted_at = now()
            WHERE id = record_id;
        END $$;
        REVOKE ALL ON FUNCTION crm_redact_audit_log(bigint, jsonb, jsonb) FROM PUBLIC;

        CREATE OR REPLACE FUNCTION crm_analyze(table_name text)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            IF table_name NOT IN ('customer_value_analysis') THEN
                RAISE EXCEPTION 'crm_analyze: % is not analysed on request', table_name;
            END IF;
            EXECUTE format('ANALYZE %I', table_name);
        END $$;
        REVOKE ALL ON FUNCTION crm_analyze(text) FROM PUBLIC;
        """  # noqa: S608 - DDL from this module's constants
    )


def _sqlite_trigger() -> None:
    # SQLite has no roles: whoever holds the file holds everything. The trigger keeps the
    # application itself to blanking values (any number of times) with the rest unchanged.
    unchanged = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in UNCHANGED)
    op.execute(
        f"""
        CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
        WHEN NOT ({STAMPED} AND {unchanged})
        BEGIN SELECT RAISE(ABORT, 'audit_logs rows cannot be changed'); END
        """
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS crm_analyze(text)")
        op.execute("DROP FUNCTION IF EXISTS crm_redact_audit_log(bigint, jsonb, jsonb)")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_logs_no_update")
    op.drop_index("ix_audit_logs_tenant_seq", table_name="audit_logs")
    with op.batch_alter_table("audit_logs", schema=None) as batch_op:
        batch_op.drop_column("seal")
        batch_op.drop_column("body_hash")
        batch_op.drop_column("seq")
    previous = f"{STAMPED} AND " + " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in UNCHANGED[:11])
    if postgresql:
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_logs_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF {previous} THEN RETURN NEW; END IF;
                RAISE EXCEPTION 'audit_logs rows cannot be changed';
            END $$;
            DROP FUNCTION IF EXISTS audit_only_blanked(jsonb, jsonb);
            """
        )
    else:
        op.execute(
            f"""
            CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
            WHEN NOT ({previous.replace("IS NOT DISTINCT FROM", "IS")})
            BEGIN SELECT RAISE(ABORT, 'audit_logs rows cannot be changed'); END
            """
        )
