"""Every domain's router, under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from crm.analytics.endpoints import router as analytics_router
from crm.approvals.endpoints import router as approvals_router
from crm.audit.endpoints import router as audit_router
from crm.auth.endpoints import router as auth_router
from crm.churn.endpoints import router as churn_router
from crm.customers.endpoints import router as customers_router
from crm.dashboard.endpoints import router as dashboard_router
from crm.interactions.endpoints import router as interactions_router
from crm.orders.endpoints import router as orders_router
from crm.privacy.endpoints import router as privacy_router
from crm.saved_views.endpoints import router as saved_views_router
from crm.service_desk.endpoints import router as service_desk_router
from crm.service_desk.public import router as public_survey_router
from crm.tenants.endpoints import router as tenants_router
from crm.users.endpoints import router as users_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(auth_router)
api_router.include_router(customers_router)
api_router.include_router(interactions_router)
api_router.include_router(service_desk_router)
api_router.include_router(orders_router)
api_router.include_router(analytics_router)
api_router.include_router(churn_router)
api_router.include_router(dashboard_router)
api_router.include_router(audit_router)
api_router.include_router(approvals_router)
api_router.include_router(privacy_router)
api_router.include_router(users_router)
api_router.include_router(tenants_router)
api_router.include_router(saved_views_router)
api_router.include_router(public_survey_router)
