"""Back-filling orders and receivables from CSV: checked whole first, then stored like the feed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from crm.auth.accounts import actor_for
from crm.cli import app
from crm.config import settings
from crm.customers import schemas as customer_schemas
from crm.customers.service import create_customer
from crm.kit.migrate import upgrade
from crm.models import CustomerOrder, CustomerOrderItem, CustomerReceivable
from crm.models.enums import Role
from crm.orders.importer import ImportRefused, import_file
from tests.factories import make_tenant, make_user

HEADER = "order_no,customer_code,status,order_date,amount,cost,product_code,category,quantity,item_amount\n"


@pytest.fixture
def setup(committed: sessionmaker[Session]) -> tuple[sessionmaker[Session], object, str]:
    with committed() as session:
        tenant = make_tenant(session)
        actor = actor_for(make_user(session, tenant, Role.ADMIN))
        customer = create_customer(
            session, actor, customer_schemas.CustomerCreate(customer_name="苏州回填测试", customer_type="enterprise")
        )
        session.commit()
        return committed, actor, customer.customer_code


def _count(factory: sessionmaker[Session], model: type, tenant_id: int) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(model.tenant_id == tenant_id)) or 0)


def test_orders_with_items_are_grouped_and_a_rerun_changes_nothing(setup: tuple, tmp_path: Path) -> None:
    factory, actor, code = setup
    path = tmp_path / "orders.csv"
    path.write_text(
        "\ufeff" + HEADER
        + f"SO-1,{code},completed,2025-03-01 10:00,1500.00,900.00,P-1,空调,1,1000.00\n"
        + f"SO-1,{code},completed,2025-03-01 10:00,1500.00,900.00,P-2,配件,5,500.00\n"
        + f"SO-2,{code},refunded,2025-04-02 09:30,300.00,,,,,\n",
        encoding="utf-8",
    )  # fmt: skip
    first = import_file(factory, actor, path)
    assert (first.kind, first.rows, first.counts["created"]) == ("orders", 2, 2)
    assert _count(factory, CustomerOrderItem, actor.tenant_id) == 2
    again = import_file(factory, actor, path)
    assert again.counts["unchanged"] == 2
    assert _count(factory, CustomerOrder, actor.tenant_id) == 2


def test_one_bad_row_stops_the_import_before_anything_is_stored(setup: tuple, tmp_path: Path) -> None:
    factory, actor, code = setup
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + f"SO-1,{code},completed,2025-03-01,1500.00,,,,,\nSO-2,{code},lost,2025-03-02,10.00,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRefused, match=r"line 3, status"):
        import_file(factory, actor, path)
    assert _count(factory, CustomerOrder, actor.tenant_id) == 0


def test_an_amount_beyond_the_largest_order_stops_the_import_naming_line_and_field(
    setup: tuple, tmp_path: Path
) -> None:
    factory, actor, code = setup
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER + f"SO-1,{code},completed,2025-03-01,1500.00,,,,,\nSO-2,{code},paid,2025-03-02,5000000000000.00,,,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRefused, match=r"line 3, amount: Input should be less than or equal to 1000000000"):
        import_file(factory, actor, path)
    assert _count(factory, CustomerOrder, actor.tenant_id) == 0


def test_receivables_are_recognised_by_their_reference_column(setup: tuple, tmp_path: Path) -> None:
    factory, actor, code = setup
    path = tmp_path / "receivables.csv"
    path.write_text(
        "customer_code,reference,amount_due,due_date,overdue_days\n"
        f"{code},INV-1,800.00,2026-10-01,62\n{code},INV-2,200.00,2026-12-31,0\n",
        encoding="utf-8",
    )
    report = import_file(factory, actor, path)
    assert (report.kind, report.rows) == ("receivables", 2)
    assert _count(factory, CustomerReceivable, actor.tenant_id) == 2
    path.write_text("customer_code,reference,amount_due,due_date\nC99999999,INV-9,1.00,2026-12-01\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="C99999999"):
        import_file(factory, actor, path)


def test_the_command_imports_and_says_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(settings, "database_url", url)
    upgrade(url)
    runner = CliRunner()
    created = runner.invoke(
        app, ["user", "create", "--username", "feed.admin", "--password", "feed-password-1", "--role", "admin"]
    )
    assert created.exit_code == 0, created.output
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "SO-1,C00000404,paid,2025-03-01,10.00,,,,,\n", encoding="utf-8")
    refused = runner.invoke(app, ["orders", "import", str(path)])
    assert refused.exit_code == 1
    assert "orders.0.customer_code" in refused.output
    assert runner.invoke(app, ["orders", "import", str(tmp_path / "missing.csv")]).exit_code == 1
