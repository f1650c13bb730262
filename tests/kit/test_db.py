"""The database engine's settings that the application's speed depends on."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from crm.models import Customer


@pytest.mark.postgresql_only
def test_postgresql_plans_each_execution_for_its_parameters(engine: Engine) -> None:
    """A generic plan (one for any level) would count a rare level by scanning every customer."""
    with engine.connect() as conn:
        for _ in range(12):  # prepared from the fifth execution; generic plans were tried from the tenth
            conn.execute(select(func.count()).select_from(Customer).where(Customer.customer_level == "A")).scalar()
        generic, custom = conn.exec_driver_sql(
            "SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0) FROM pg_prepared_statements"
        ).one()
    assert custom > 0  # the statement was prepared …
    assert generic == 0  # … and planned for its parameters every time
