"""The floor the request-mix benchmark compares with: a bare FastAPI endpoint reading one
customer row by primary key, on the same database, server and machine as the CRM.

    CRM_DATABASE_URL=postgresql+psycopg://… uvicorn bench.bare:app --workers 2
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["CRM_DATABASE_URL"], pool_size=10, max_overflow=10)
app = FastAPI()
ONE_ROW = text("SELECT id, customer_code, customer_name, customer_level FROM customers WHERE id = :id")


@app.get("/customers/{customer_id}")
def customer(customer_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(ONE_ROW, {"id": customer_id}).mappings().one_or_none()
    return dict(row) if row else {}
