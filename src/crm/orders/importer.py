"""Back-filling order and receivable history from CSV (`crm orders import FILE`).

Orders: one row per line item (an order without items is one row with empty item columns),
UTF-8 with or without BOM, header row required:

    order_no,customer_code,status,order_date,amount,cost,margin,currency,source_updated_at,
    product_code,product_name,category,quantity,item_amount

(`customer_id` may stand instead of `customer_code`; `cost`, `margin`, `currency`,
`source_updated_at` and the item columns may be left out.) Receivables, recognised by their
`reference` column:

    customer_code,reference,amount_due,due_date,overdue_days

The whole file is read and checked first; any invalid row stops the import before anything
is stored, naming the line and the field. Then the rows go through the same service as the API,
1,000 orders per transaction, so a re-run of the same file changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm.kit.actor import Actor
from crm.kit.db import unit_of_work
from crm.kit.errors import ValidationFailed
from crm.models import Customer
from crm.orders import schemas, service

BATCH = schemas.MAX_BATCH
ORDER_COLUMNS = ("order_no", "status", "order_date", "amount")
ITEM_COLUMNS = {"product_code", "product_name", "category", "quantity", "item_amount"}
OPTIONAL_ORDER = ("customer_id", "customer_code", "cost", "margin", "currency", "source_updated_at")


class ImportRefused(Exception):
    """The file cannot be imported; the message names the line and field."""


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise ImportRefused("the file is empty / 文件为空")
        for number, row in enumerate(reader, start=2):
            yield number, {k.strip(): (v or "").strip() for k, v in row.items() if k}


def _explain(number: int, error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    return f"line {number}, {where}: {first['msg']} / 第 {number} 行 {where} 有误"


def read_orders(path: Path) -> list[schemas.OrderIn]:
    """Every order of the file, items grouped under their order, validated; in file order."""
    grouped: dict[str, tuple[int, dict[str, Any], list[dict[str, Any]]]] = {}
    for number, row in _rows(path):
        missing = [c for c in ORDER_COLUMNS if c not in row]
        if missing:
            raise ImportRefused(f"missing columns: {', '.join(missing)} / 缺少列")
        order = {k: row[k] for k in (*ORDER_COLUMNS, *OPTIONAL_ORDER) if row.get(k)}
        held = grouped.setdefault(row["order_no"], (number, order, []))
        if row.get("product_code"):
            item = {k: row[k] for k in ITEM_COLUMNS if row.get(k)}
            item["amount"] = item.pop("item_amount", "")
            held[2].append(item)
    orders = []
    for number, order, items in grouped.values():
        try:
            orders.append(schemas.OrderIn.model_validate({**order, "items": items}))
        except ValidationError as error:
            raise ImportRefused(_explain(number, error)) from None
    return orders


def import_orders(factory: sessionmaker[Session], actor: Actor, path: Path) -> ImportReport:
    orders = read_orders(path)
    report = ImportReport(kind="orders", rows=len(orders), counts={o.value: 0 for o in schemas.Outcome})
    for first in range(0, len(orders), BATCH):
        batch = orders[first : first + BATCH]
        try:
            for session in unit_of_work(factory):
                result = service.upsert_orders(session, actor, batch)
        except ValidationFailed as error:
            position, code = error.fields[0][0], error.fields[0][1]
            raise ImportRefused(
                f"order {first + int(position.split('.')[1]) + 1} of the file: {position} {code} "
                f"(the {first} orders before it are stored) / 第 {first + 1} 批订单有误"
            ) from None
        for outcome in schemas.Outcome:
            report.counts[outcome.value] += sum(1 for r in result.results if r.outcome == outcome)
    return report


def import_receivables(factory: sessionmaker[Session], actor: Actor, path: Path) -> ImportReport:
    by_customer: dict[str, list[schemas.ReceivableIn]] = {}
    for number, row in _rows(path):
        code = row.get("customer_code", "")
        if not code:
            raise ImportRefused(f"line {number}, customer_code: missing / 第 {number} 行缺少客户编码")
        try:
            by_customer.setdefault(code, []).append(
                schemas.ReceivableIn.model_validate({k: v for k, v in row.items() if k != "customer_code" and v})
            )
        except ValidationError as error:
            raise ImportRefused(_explain(number, error)) from None
    report = ImportReport(kind="receivables", rows=sum(len(v) for v in by_customer.values()))
    for session in unit_of_work(factory):
        found = session.execute(
            select(Customer.customer_code, Customer.id).where(
                Customer.tenant_id == actor.tenant_id,
                Customer.customer_code.in_(by_customer),
                Customer.deleted_at.is_(None),
            )
        )
        customers = {row[0]: row[1] for row in found}
        unknown = sorted(set(by_customer) - set(customers))
        if unknown:
            raise ImportRefused(f"unknown customer codes: {', '.join(unknown[:10])} / 未知客户编码")
        for code, receivables in by_customer.items():
            service.upsert_receivables(session, actor, customers[code], receivables)
    report.counts = {"customers": len(by_customer)}
    return report


def import_file(factory: sessionmaker[Session], actor: Actor, path: Path) -> ImportReport:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    if "reference" in {h.strip() for h in header}:
        return import_receivables(factory, actor, path)
    return import_orders(factory, actor, path)
