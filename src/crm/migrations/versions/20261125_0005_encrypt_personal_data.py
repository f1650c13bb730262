"""encrypt personal data at rest, blind indexes for phone and e-mail lookup

Phones, e-mails, WeChat ids, birthdays and detailed addresses become AES-GCM ciphertexts
(crm.kit.crypto) under the installation's active key; contacts gain HMAC blind indexes of
phone and e-mail in place of the indexes on the clear columns; and the customers' search
tokens are rebuilt so that no phone or e-mail stays there in clear.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 08:00:00
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op

from crm.kit import search
from crm.kit.crypto import email_index, keyring, phone_index
from crm.kit.types import TokenList

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
PRIMARY_WHERE = "is_primary AND deleted_at IS NULL"

CONTACT_COLUMNS = ("contact_phone", "contact_email", "contact_wechat", "birthday")
ADDRESS_COLUMNS = ("detailed_address", "contact_phone")


def _batches(conn: sa.Connection, table: str, columns: Sequence[str]) -> Iterator[list[sa.Row[Any]]]:
    last = 0
    while True:
        rows = conn.execute(
            sa.text(f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"),  # noqa: S608 - fixed names
            {"last": last},
        ).all()
        if not rows:
            return
        yield list(rows)
        last = rows[-1].id


def _clear(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _encrypt_table(conn: sa.Connection, table: str, columns: Sequence[str], *, contacts: bool) -> None:
    ring = keyring()
    assignments = [f"{c} = :{c}" for c in columns]
    if contacts:
        assignments += ["phone_index = :phone_index", "email_index = :email_index"]
    statement = sa.text(f"UPDATE {table} SET {', '.join(assignments)} WHERE id = :id")  # noqa: S608 - fixed names
    for rows in _batches(conn, table, columns):
        params = []
        for row in rows:
            values: dict[str, Any] = {"id": row.id}
            for column in columns:
                clear = _clear(getattr(row, column))
                already = clear is not None and clear.startswith("v1.")
                values[column] = clear if clear is None or already else ring.encrypt(clear, f"{table}.{column}")
            if contacts:
                phone, email = _clear(row.contact_phone), _clear(row.contact_email)
                values["phone_index"] = phone_index(None if phone and phone.startswith("v1.") else phone)
                values["email_index"] = email_index(None if email and email.startswith("v1.") else email)
            params.append(values)
        conn.execute(statement, params)


def _reindex_customers(conn: sa.Connection) -> None:
    """Search tokens of customers with contacts, rebuilt as crm.customers.service.search_fields does."""
    last = 0
    while True:
        customers = conn.execute(
            sa.text(
                "SELECT id, customer_name, customer_code FROM customers WHERE id > :last AND id IN "
                "(SELECT customer_id FROM customer_contacts WHERE deleted_at IS NULL) ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not customers:
            return
        ids = [c.id for c in customers]
        contacts: dict[int, list[sa.Row[Any]]] = defaultdict(list)
        for row in conn.execute(
            sa.text(
                "SELECT customer_id, contact_name, contact_phone, contact_email FROM customer_contacts "
                "WHERE deleted_at IS NULL AND customer_id IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids},
        ):
            contacts[row.customer_id].append(row)
        ring = keyring()
        params = []
        for customer in customers:
            people = contacts[customer.id]
            phones = [
                ring.decrypt(p.contact_phone, "customer_contacts.contact_phone") for p in people if p.contact_phone
            ]
            emails = [
                ring.decrypt(p.contact_email, "customer_contacts.contact_email") for p in people if p.contact_email
            ]
            texts = [customer.customer_name, customer.customer_code, *(p.contact_name for p in people)]
            tokens = search.index_tokens(
                texts, phones=phones, emails=emails, exact=[customer.customer_code], name=customer.customer_name
            )
            params.append({"id": customer.id, "text": search.search_text(texts), "tokens": tokens})
        statement = sa.text("UPDATE customers SET search_tokens = :tokens, search_text = :text WHERE id = :id")
        conn.execute(statement.bindparams(sa.bindparam("tokens", type_=TokenList())), params)
        last = ids[-1]


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    op.drop_index("ix_customer_contacts_contact_phone", table_name="customer_contacts")
    op.drop_index("ix_customer_contacts_contact_email", table_name="customer_contacts")
    # SQLite rebuilds the table to change a column's type; the partial unique index is
    # recreated explicitly rather than trusted to reflection.
    op.drop_index(
        "uq_customer_contacts_primary",
        table_name="customer_contacts",
        postgresql_where=sa.text(PRIMARY_WHERE),
        sqlite_where=sa.text(PRIMARY_WHERE),
    )
    with op.batch_alter_table("customer_contacts") as batch_op:
        for column in ("contact_phone", "contact_email", "contact_wechat"):
            batch_op.alter_column(column, type_=sa.Text(), existing_nullable=True)
        batch_op.alter_column(
            "birthday",
            type_=sa.Text(),
            existing_type=sa.Date(),
            existing_nullable=True,
            postgresql_using="birthday::text",
        )
        batch_op.add_column(sa.Column("phone_index", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("email_index", sa.String(length=32), nullable=True))
    op.create_index(
        "uq_customer_contacts_primary",
        "customer_contacts",
        ["customer_id"],
        unique=True,
        postgresql_where=sa.text(PRIMARY_WHERE),
        sqlite_where=sa.text(PRIMARY_WHERE),
    )
    op.create_index("ix_customer_contacts_phone_index", "customer_contacts", ["tenant_id", "phone_index"])
    op.create_index("ix_customer_contacts_email_index", "customer_contacts", ["tenant_id", "email_index"])
    op.drop_index(
        "uq_customer_addresses_default",
        table_name="customer_addresses",
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    with op.batch_alter_table("customer_addresses") as batch_op:
        batch_op.alter_column("detailed_address", type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column("contact_phone", type_=sa.Text(), existing_nullable=True)
    op.create_index(
        "uq_customer_addresses_default",
        "customer_addresses",
        ["customer_id", "address_type"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )
    _encrypt_table(conn, "customer_contacts", CONTACT_COLUMNS, contacts=True)
    _encrypt_table(conn, "customer_addresses", ADDRESS_COLUMNS, contacts=False)
    _reindex_customers(conn)
    if postgres:
        conn.execute(sa.text("ANALYZE customer_contacts"))


def downgrade() -> None:
    raise NotImplementedError(
        "0005 encrypts personal data; going back would write it in clear again. Restore a backup instead."
    )
