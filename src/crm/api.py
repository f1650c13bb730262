"""Every domain's router, under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from crm.approvals.endpoints import router as approvals_router
from crm.audit.endpoints import router as audit_router
from crm.auth.endpoints import router as auth_router
from crm.customers.endpoints import router as customers_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(customers_router)
api_router.include_router(audit_router)
api_router.include_router(approvals_router)
