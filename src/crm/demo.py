"""Realistic zh-CN demo data: users across regions, ~300 customers with contacts and addresses,
six months of interactions with follow-ups, service tickets in every status, two years of orders
(seasonal, with churners) and receivables, then today's value analysis and rule-based levels.

Everything goes through the services, so demo rows obey the same rules as real ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from unittest.mock import patch
from zoneinfo import ZoneInfo

from faker import Faker
from sqlalchemy.orm import Session

from crm.analytics import grading, prediction, value
from crm.auth.accounts import actor_for
from crm.auth.passwords import hash_password
from crm.churn import service as churn_service
from crm.config import settings
from crm.customers import schemas, service
from crm.interactions import notifications
from crm.interactions import schemas as interaction_schemas
from crm.interactions import service as interactions
from crm.kit.actor import Actor
from crm.kit.calendar import WorkingCalendar
from crm.kit.clock import business_today
from crm.kit.db import utcnow
from crm.kit.phones import normalise_phone
from crm.kit.regions import DEFAULT_PROVINCE_REGIONS, Region
from crm.models.customers import Customer
from crm.models.enums import (
    AddressType,
    CompanySize,
    CreditRating,
    CustomerLevel,
    CustomerStatus,
    CustomerType,
    Role,
)
from crm.models.interactions import FollowUpStatus, InteractionDirection, InteractionOutcome, InteractionType
from crm.models.orders import OrderStatus
from crm.models.service_desk import Priority, ServiceRecord, ServiceType
from crm.models.tenancy import Tenant, User
from crm.orders import schemas as order_schemas
from crm.orders import service as orders_service
from crm.service_desk import schemas as desk_schemas
from crm.service_desk import service as desk
from crm.service_desk import surveys
from crm.service_desk.states import Action
from crm.tenants.service import service_calendar, sla_targets
from crm.users import service as users_service
from crm.users.service import create_user, get_or_create_tenant

DEMO_TENANT = "default"
DEMO_ADMIN = "admin"
DEMO_PASSWORD = "crm-demo-2026!"  # noqa: S105 - the published demo login, printed by make run
# Workload points (urgent 4 … low 1) each demo agent takes on; the demo leaves each with ~40 open.
DEMO_AGENT_CAPACITY = 80
DEMO_LOGIN = (
    f"演示账号 / demo login: {DEMO_ADMIN} / {DEMO_PASSWORD}  "
    "(other roles: manager.east, sales.east1, service.agent1, analyst — same password)"
)

CITIES: dict[str, list[str]] = {
    "北京市": ["北京市"],
    "天津市": ["天津市"],
    "上海市": ["上海市"],
    "重庆市": ["重庆市"],
    "河北省": ["石家庄市", "唐山市", "保定市", "廊坊市"],
    "山西省": ["太原市", "大同市"],
    "内蒙古自治区": ["呼和浩特市", "包头市"],
    "辽宁省": ["沈阳市", "大连市", "鞍山市"],
    "吉林省": ["长春市", "吉林市"],
    "黑龙江省": ["哈尔滨市", "大庆市"],
    "江苏省": ["南京市", "苏州市", "无锡市", "常州市", "南通市"],
    "浙江省": ["杭州市", "宁波市", "温州市", "绍兴市", "嘉兴市"],
    "安徽省": ["合肥市", "芜湖市"],
    "福建省": ["福州市", "厦门市", "泉州市"],
    "江西省": ["南昌市", "赣州市"],
    "山东省": ["济南市", "青岛市", "烟台市", "潍坊市"],
    "河南省": ["郑州市", "洛阳市"],
    "湖北省": ["武汉市", "宜昌市", "襄阳市"],
    "湖南省": ["长沙市", "株洲市"],
    "广东省": ["广州市", "深圳市", "东莞市", "佛山市", "珠海市"],
    "广西壮族自治区": ["南宁市", "柳州市"],
    "海南省": ["海口市", "三亚市"],
    "四川省": ["成都市", "绵阳市"],
    "贵州省": ["贵阳市", "遵义市"],
    "云南省": ["昆明市", "大理白族自治州"],
    "陕西省": ["西安市", "宝鸡市"],
    "甘肃省": ["兰州市"],
    "宁夏回族自治区": ["银川市"],
    "新疆维吾尔自治区": ["乌鲁木齐市"],
}
# Customers cluster where the economy does: weights per province.
PROVINCE_WEIGHTS = dict.fromkeys(CITIES, 1) | {
    "广东省": 9, "江苏省": 8, "浙江省": 8, "上海市": 7, "北京市": 7, "山东省": 5,
    "四川省": 4, "湖北省": 4, "福建省": 4, "河南省": 3,
}  # fmt: skip
INDUSTRIES = [
    "制造业",
    "信息技术",
    "金融",
    "零售",
    "医疗健康",
    "教育",
    "房地产",
    "物流",
    "能源",
    "餐饮",
    "建筑",
    "农业",
]
SOURCES = ["官网", "展会", "转介绍", "电话营销", "线上广告", "合作伙伴", "老客户推荐", "线索转化"]
TAGS = ["重点客户", "高潜力", "价格敏感", "长期合作", "新客户", "待跟进", "VIP", "政府关系", "上市公司", "续约期"]
TITLES = ["总经理", "采购经理", "财务总监", "技术总监", "运营经理", "行政主管", "项目经理", "董事长助理", "市场总监"]
DISTRICTS = ["高新区", "经济开发区", "中心区", "新区", "老城区"]
STREETS = ["人民路", "解放路", "中山路", "建设大道", "科技园路", "滨江大道", "长安街", "学府路"]


def _phone(fake: Faker) -> str:
    while True:
        candidate = fake.phone_number()
        if normalise_phone(candidate):
            return candidate


def load_demo(session: Session, *, customers: int = 300, seed: int = 20261125) -> str:
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    tenant = get_or_create_tenant(session, DEMO_TENANT)
    tenant.name = "演示公司"
    with _one_password_hash():
        users = _users(session, tenant, fake)
    admin = users.admin
    sales_by_region = users.sales_by_region
    agents = [a.id for a in users.agents]
    actor = actor_for(admin)
    provinces = list(PROVINCE_WEIGHTS)
    weights = [PROVINCE_WEIGHTS[p] for p in provinces]
    today = business_today()
    contacts_made = addresses_made = 0
    made: list[_DemoCustomer] = []
    for _ in range(customers):
        made.append(_customer(session, actor, rng, fake, provinces, weights, today, sales_by_region, agents))
        contacts_made += len(made[-1].contact_ids)
        addresses_made += made[-1].addresses
    engagement = _engagement(session, tenant, users, made, rng)
    sales = _orders(session, actor, made, rng, today)
    # A year of month-end value analyses as the nightly job would have written them (the history
    # the 360 page draws), then the nightly jobs once now: today's value analysis of every
    # customer and the levels the grading rules give them.
    # The churn model trains on the 24 months of orders first, so tonight's (now's) analysis is scored.
    model = prediction.train(session, tenant.id, today=today)
    for month in _month_starts(today)[-HISTORY_SNAPSHOTS:]:
        value.refresh(session, tenant, day=month - timedelta(days=1))
    analysed = value.refresh_all(session)
    regraded = grading.regrade_all(session)
    warnings = churn_service.raise_all(session)
    asked = _approval_requests(session, tenant, users, made)
    return (
        f"loaded tenant {tenant.code}: {customers} customers, {contacts_made} contacts, "
        f"{addresses_made} addresses, {engagement}, {sales}, {analysed} value analyses, "
        f"{regraded} levels changed by the rules, {warnings} churn warnings, {asked} approval requests "
        f"(model: {model.metrics.get('message', '')}), users for 7 regions"
    )


def _approval_requests(session: Session, tenant: Tenant, users: _DemoUsers, made: list[_DemoCustomer]) -> int:
    """A sales rep asks to delete one customer and to downgrade an A customer, so that the east
    region's manager (and the admin) find requests waiting under 审批."""
    rep = actor_for(users.by_id[users.sales_by_region[Region.EAST][-1]], tenant)
    owned = [c for c in (session.get(Customer, m.id) for m in made if m.sales_id == rep.id) if c is not None]
    asked = 0
    top = next((c for c in owned if c.customer_level == CustomerLevel.A), None)
    if top is not None:
        reason = "近半年采购明显减少，申请降为 B 级"
        service.change_level(session, rep, top.id, schemas.LevelChange(level=CustomerLevel.B, reason=reason))
        asked += 1
    other = next((c for c in owned if c is not top), None)
    if other is not None:
        service.delete_customer(session, rep, other.id)
        asked += 1
    return asked


@contextmanager
def _one_password_hash() -> Iterator[None]:
    """Every demo user has the same published password: hash it once, not ~25 times at ~0.2 s each."""
    hashed = hash_password(DEMO_PASSWORD)
    with patch.object(users_service, "hash_password", lambda _password: hashed):
        yield


@dataclass
class _DemoUsers:
    admin: User
    by_id: dict[int, User]
    sales_by_region: dict[Region, list[int]]
    service_manager: User
    agents: list[User]


@dataclass
class _DemoCustomer:
    id: int
    level: CustomerLevel
    enterprise: bool
    acquired: date
    sales_id: int | None
    service_id: int | None
    contact_ids: list[int]
    addresses: int


def _users(session: Session, tenant: Tenant, fake: Faker) -> _DemoUsers:
    admin = create_user(
        session, tenant=tenant, username=DEMO_ADMIN, password=DEMO_PASSWORD, role=Role.ADMIN, display_name="系统管理员"
    )
    by_id: dict[int, User] = {admin.id: admin}
    sales_by_region: dict[Region, list[int]] = {}
    pinyin = {Region.EAST: "east", Region.SOUTH: "south", Region.NORTH: "north", Region.CENTRAL: "central",
              Region.SOUTHWEST: "southwest", Region.NORTHWEST: "northwest", Region.NORTHEAST: "northeast"}  # fmt: skip
    for region in Region:
        manager = create_user(
            session, tenant=tenant, username=f"manager.{pinyin[region]}", password=DEMO_PASSWORD,
            role=Role.SALES_MANAGER, region=region, display_name=f"{fake.name()}（{region.value}经理）",
        )  # fmt: skip
        by_id[manager.id] = manager
        reps = [manager.id]
        for n in range(1, 3 if region in (Region.EAST, Region.SOUTH, Region.NORTH) else 2):
            rep = create_user(
                session, tenant=tenant, username=f"sales.{pinyin[region]}{n}", password=DEMO_PASSWORD,
                role=Role.SALES, region=region, display_name=fake.name(),
            )  # fmt: skip
            by_id[rep.id] = rep
            reps.append(rep.id)
        sales_by_region[region] = reps
    service_manager = create_user(session, tenant=tenant, username="service.manager", password=DEMO_PASSWORD,
                role=Role.SERVICE_MANAGER, region=Region.EAST, display_name=fake.name(), team="客服一组")  # fmt: skip
    agents = [
        create_user(session, tenant=tenant, username=f"service.agent{n}", password=DEMO_PASSWORD,
                    role=Role.SERVICE_AGENT, display_name=fake.name(), team="客服一组")
        for n in (1, 2, 3)
    ]  # fmt: skip
    # Room beyond the demo's open tickets, so that a ticket created while trying the demo is
    # assigned automatically instead of waiting for an agent to free up.
    for agent in agents:
        agent.service_capacity = DEMO_AGENT_CAPACITY
    by_id |= {u.id: u for u in (service_manager, *agents)}
    create_user(session, tenant=tenant, username="marketer", password=DEMO_PASSWORD, role=Role.MARKETER,
                display_name=fake.name())  # fmt: skip
    create_user(session, tenant=tenant, username="analyst", password=DEMO_PASSWORD, role=Role.ANALYST,
                display_name=fake.name())  # fmt: skip
    # A fixed name: drawing one would shift every name and figure generated after it.
    create_user(session, tenant=tenant, username="finance", password=DEMO_PASSWORD, role=Role.FINANCE,
                display_name="王静（财务）")  # fmt: skip
    session.flush()
    return _DemoUsers(admin, by_id, sales_by_region, service_manager, agents)


def _customer(  # noqa: PLR0917 - the loop's context, passed on as it was when this was inline
    session: Session,
    actor: Actor,
    rng: random.Random,
    fake: Faker,
    provinces: list[str],
    weights: list[int],
    today: date,
    sales_by_region: dict[Region, list[int]],
    agents: list[int],
) -> _DemoCustomer:
    province = rng.choices(provinces, weights)[0]
    city = rng.choice(CITIES[province])
    enterprise = rng.random() < 0.75
    level = rng.choices(list(CustomerLevel), [1, 3, 5, 6])[0]
    revenue_scale = {"A": 5e8, "B": 8e7, "C": 1.5e7, "D": 3e6}[level.value]
    contacts = [
        schemas.ContactCreate(
            contact_name=fake.name(),
            contact_title=rng.choice(TITLES) if enterprise else None,
            contact_phone=_phone(fake),
            contact_email=fake.email() if rng.random() < 0.8 else None,
            contact_wechat=f"wx_{fake.user_name()}" if rng.random() < 0.6 else None,
            is_decision_maker=rng.random() < 0.3,
            birthday=fake.date_of_birth(minimum_age=25, maximum_age=60) if rng.random() < 0.4 else None,
        )
        for _ in range(rng.randint(1, 3) if enterprise else 1)
    ]
    addresses = [
        schemas.AddressCreate(
            address_type=kind,
            province=province,
            city=city,
            district=rng.choice(DISTRICTS),
            detailed_address=f"{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}楼",
            postal_code=fake.postcode(),
            contact_name=contacts[0].contact_name,
            contact_phone=contacts[0].contact_phone,
        )
        for kind in ([AddressType.OFFICE, AddressType.BILLING] if enterprise else [AddressType.HOME])[
            : rng.randint(1, 2)
        ]
    ]
    data = schemas.CustomerCreate(
        customer_name=fake.company() if enterprise else fake.name(),
        customer_type=CustomerType.ENTERPRISE if enterprise else CustomerType.INDIVIDUAL,
        customer_level=level,
        customer_status=rng.choices(list(CustomerStatus), [90, 8, 2])[0],
        industry=rng.choice(INDUSTRIES) if enterprise else None,
        company_size=rng.choice(list(CompanySize)) if enterprise else None,
        annual_revenue=(Decimal(str(round(rng.uniform(0.2, 1.5) * revenue_scale, 2))) if enterprise else None),
        credit_rating=rng.choice(list(CreditRating)) if enterprise else None,
        source=rng.choice(SOURCES),
        acquisition_date=today - timedelta(days=rng.randint(1, 365 * 3)),
        assigned_sales_id=rng.choice(sales_by_region[DEFAULT_PROVINCE_REGIONS[province]]),
        assigned_service_id=rng.choice(agents) if rng.random() < 0.5 else None,
        tags=rng.sample(TAGS, rng.randint(0, 3)),
        remarks=fake.sentence() if rng.random() < 0.3 else None,
        province=province,
        city=city,
        contacts=contacts,
        addresses=addresses,
    )
    customer = service.create_customer(session, actor, data)
    return _DemoCustomer(
        id=customer.id,
        level=level,
        enterprise=enterprise,
        acquired=data.acquisition_date or today,
        sales_id=customer.assigned_sales_id,
        service_id=customer.assigned_service_id,
        contact_ids=[c.id for c in customer.contacts],
        addresses=len(addresses),
    )


# ---------------------------------------------------------------- interactions and follow-ups

TOPICS: dict[InteractionType, list[str]] = {
    InteractionType.CALL: ["电话沟通年度采购计划", "电话回访产品使用情况", "电话确认报价细节", "电话跟进合同进度",
                           "来电咨询售后政策", "电话沟通续约事宜"],
    InteractionType.VISIT: ["上门拜访，演示新版本", "拜访客户总部，了解扩产计划", "现场调研生产线需求",
                            "陪同技术团队现场巡检"],
    InteractionType.WECHAT: ["微信发送产品资料", "微信确认交付时间", "微信沟通付款安排", "微信答复发票问题"],
    InteractionType.MEETING: ["线上会议：方案评审", "季度业务回顾会议", "合同条款谈判会议", "新品推介会"],
    InteractionType.EMAIL: ["邮件发送正式报价单", "邮件回复技术问题", "邮件确认会议纪要"],
}  # fmt: skip
TYPE_WEIGHTS = {InteractionType.CALL: 5, InteractionType.WECHAT: 4, InteractionType.VISIT: 2,
                InteractionType.MEETING: 2, InteractionType.EMAIL: 1}  # fmt: skip
REMARKS = [
    "对新方案比较感兴趣，希望看到详细报价",
    "预算已批，等待内部采购流程",
    "关注交付周期，要求本月底前给出排期",
    "提出价格偏高，希望给予阶梯折扣",
    "使用反馈良好，计划扩大采购规模",
    "负责人近期出差，约定下次再沟通",
    "对售后响应速度有意见，已安排客服跟进",
    "希望增加培训服务，已记录需求",
]
NEXT_ACTIONS = ["发送报价单", "安排产品演示", "确认合同条款", "回访使用情况", "邀请参加新品发布会", "跟进付款进度",
                "提交技术方案", "预约上门拜访"]  # fmt: skip
MINUTES = {InteractionType.CALL: (5, 40), InteractionType.VISIT: (60, 180), InteractionType.MEETING: (30, 120)}
# The first follow-ups of every staff member fall on these days from today: each of them has an
# overdue, a today and an upcoming one to show on the workbench; the rest are spread around.
FIRST_FOLLOW_UPS = (-3, 0, 2, -1, 5)


def _engagement(
    session: Session, tenant: Tenant, users: _DemoUsers, customers: list[_DemoCustomer], rng: random.Random
) -> str:
    actors = {user_id: actor_for(user, tenant) for user_id, user in users.by_id.items()}
    recorded = _interactions(session, actors, customers, rng)
    tickets = _tickets(session, tenant, actors=actors, users=users, customers=customers, rng=rng)
    # The scheduled jobs, run once now: reminders of the follow-ups already due, escalation
    # (and the service managers' notifications) of urgent and high tickets past their SLA.
    reminded = notifications.send_follow_up_reminders(session)
    escalated = desk.escalate_breached(session)
    return f"{recorded} interactions, {tickets} tickets ({escalated} escalated by SLA), {reminded} reminders"


def _at_local(day: date, rng: random.Random) -> datetime:
    """A moment of the working day (09:00–18:00 in the business time zone)."""
    zone = ZoneInfo(settings.default_timezone)
    return datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 15, 30, 45))), tzinfo=zone)


def _interactions(
    session: Session, actors: dict[int, Actor], customers: list[_DemoCustomer], rng: random.Random
) -> int:
    now = utcnow()
    today = business_today()
    follow_ups: dict[int, int] = {}
    recorded = 0
    for customer in customers:
        staff = [s for s in (customer.sales_id, customer.service_id) if s is not None and s in actors]
        if not staff:
            continue
        count = rng.choices(range(7), [1, 2, 3, 3, 2, 1, 1])[0]
        days_ago = sorted(rng.sample(range(1, 180), count), reverse=True)
        for n, ago in enumerate(days_ago):
            # Mostly the sales owner; the service agent calls the customers they serve now and then.
            staff_id = staff[0] if len(staff) == 1 or rng.random() < 0.7 else staff[1]
            actor = actors[staff_id]
            kind = rng.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()))[0]
            when = _at_local(today - timedelta(days=ago), rng)
            latest = n == len(days_ago) - 1
            next_date: datetime | None = None
            if latest and rng.random() < 0.6:
                done = follow_ups.get(staff_id, 0)
                follow_ups[staff_id] = done + 1
                offset = FIRST_FOLLOW_UPS[done] if done < len(FIRST_FOLLOW_UPS) else rng.randint(-10, 10)
                next_date = _at_local(today + timedelta(days=offset), rng)
                # The conversation that planned it happened a few days before it is due.
                when = min(when, _at_local(today + timedelta(days=offset - rng.randint(2, 10)), rng))
            elif not latest and rng.random() < 0.3:
                next_date = when + timedelta(days=rng.randint(2, 10))
            when = min(when, now - timedelta(minutes=30))
            low, high = MINUTES.get(kind, (0, 0))
            interaction = interactions.create_interaction(
                session,
                actor,
                customer.id,
                interaction_schemas.InteractionCreate(
                    contact_id=rng.choice(customer.contact_ids)
                    if customer.contact_ids and rng.random() < 0.85
                    else None,
                    interaction_type=kind,
                    interaction_direction=InteractionDirection.INBOUND
                    if kind in (InteractionType.CALL, InteractionType.WECHAT) and rng.random() < 0.35
                    else InteractionDirection.OUTBOUND,
                    subject=rng.choice(TOPICS[kind]),
                    content=f"客户{rng.choice(REMARKS)}。",
                    interaction_date=when,
                    duration_minutes=rng.randint(low, high) if high else None,
                    outcome=InteractionOutcome.FOLLOW_UP_NEEDED
                    if next_date
                    else rng.choices([InteractionOutcome.SUCCESSFUL, InteractionOutcome.FAILED, None], [7, 1, 2])[0],
                    next_action=rng.choice(NEXT_ACTIONS) if next_date else None,
                    next_action_date=next_date,
                ),
            )
            recorded += 1
            if not latest and next_date is not None and next_date < now:
                # Older follow-ups were done (a few called off) before the latest conversation.
                status = FollowUpStatus.DONE if rng.random() < 0.85 else FollowUpStatus.CANCELLED
                interactions.update_interaction(
                    session,
                    actor,
                    interaction.id,
                    interaction_schemas.InteractionUpdate(version=interaction.version, follow_up_status=status),
                )
    return recorded


# ---------------------------------------------------------------- service tickets

SUBJECTS: dict[ServiceType, list[str]] = {
    ServiceType.CONSULTATION: ["咨询发票开具流程", "咨询批量采购折扣政策", "咨询产品升级方案", "咨询培训课程安排"],
    ServiceType.COMPLAINT: ["投诉交付延迟", "投诉售后响应慢", "对账单金额有异议", "投诉配送包装破损"],
    ServiceType.TECHNICAL_SUPPORT: ["系统登录异常", "设备无法联网", "数据导出报错", "接口调用超时", "打印模块无响应"],
    ServiceType.AFTER_SALES: ["申请更换故障配件", "退货申请", "保修期内维修", "安装调试预约"],
    ServiceType.OTHER: ["更新开票信息", "变更收货地址", "申请电子合同副本"],
}  # fmt: skip
DETAILS = [
    "客户来电反映问题，影响日常业务，希望尽快处理。",
    "客户通过微信提出，已初步了解情况，需要进一步排查。",
    "客户邮件反馈，附有截图，要求给出处理时间。",
    "客户负责人亲自来电，语气较急。",
]
RESOLUTIONS = [
    "已远程协助客户完成配置，问题解决，客户确认正常使用。",
    "已安排工程师上门更换配件，测试通过。",
    "已核对账单并重新开具发票，邮件告知客户。",
    "已升级到最新版本，问题不再复现。",
    "已向客户说明政策并提供书面材料，客户表示认可。",
]
# Every status, and each SLA clock in every state: (what happens to the ticket, how far its clock ran).
TICKET_PLAN: tuple[tuple[str, str], ...] = (
    ("open", "ok"), ("open", "at_risk"), ("open", "breached"), ("auto", "ok"), ("auto", "breached"),
    ("in_progress", "ok"), ("in_progress", "at_risk"), ("in_progress", "breached"), ("escalated", "ok"),
    ("resolved", "met"), ("resolved", "late"), ("closed", "met"), ("closed", "late"), ("cancelled", "ok"),
    ("reopened", "ok"),
)  # fmt: skip
PRIORITIES = (Priority.URGENT, Priority.HIGH, Priority.MEDIUM, Priority.LOW)
WORKING_DAY = 9.0  # hours, 09:00–18:00


def _working_ago(calendar: WorkingCalendar, now: datetime, hours: float) -> datetime:
    """The moment ``hours`` of working time before ``now`` (the calendar's add, backwards)."""
    remaining = timedelta(hours=hours)
    local = now.astimezone(calendar.zone)
    day = local.date()
    for _ in range(3660):
        if calendar.is_working_day(day):
            opens = datetime.combine(day, calendar.start, tzinfo=calendar.zone)
            end = min(local, datetime.combine(day, calendar.end, tzinfo=calendar.zone))
            if end > opens:
                if remaining <= end - opens:
                    return (end - remaining).astimezone(UTC)
                remaining -= end - opens
        day -= timedelta(days=1)
        local = datetime.combine(day, time.max, tzinfo=calendar.zone)
    raise ValueError("the service calendar has no working time")


@contextmanager
def _desk_clock(moment: datetime) -> Iterator[None]:
    """Run the service desk as of ``moment``: demo tickets get a past, and the service itself
    stamps their dates and computes their SLA clocks from it, as it did for real tickets."""
    with patch.object(desk, "utcnow", lambda: moment):
        yield


@dataclass
class _Desk:
    """What working the demo tickets needs: the people, the calendar and targets, and "now"."""

    actors: dict[int, Actor]
    manager: Actor
    agents: list[int]
    calendar: WorkingCalendar
    targets: dict[Priority, tuple[float, float]]
    now: datetime
    rng: random.Random

    def ago(self, hours: float) -> datetime:
        return _working_ago(self.calendar, self.now, hours)

    def after(self, since: datetime, hours: float) -> datetime:
        return min(self.calendar.add(since, timedelta(hours=hours)), self.now)


def _tickets(
    session: Session,
    tenant: Tenant,
    *,
    actors: dict[int, Actor],
    users: _DemoUsers,
    customers: list[_DemoCustomer],
    rng: random.Random,
) -> int:
    served = [c for c in customers if c.service_id is not None]
    if not served:
        return 0
    rng.shuffle(served)
    work = _Desk(
        actors=actors,
        manager=actors[users.service_manager.id],
        agents=[a.id for a in users.agents],
        calendar=service_calendar(tenant),
        targets=sla_targets(tenant),
        now=utcnow(),
        rng=rng,
    )
    count = max(2 * len(TICKET_PLAN), len(customers) // 4)
    for n in range(count):
        fate, clock = TICKET_PLAN[n % len(TICKET_PLAN)]
        priority = PRIORITIES[n % len(PRIORITIES)]
        kind = list(ServiceType)[n % len(ServiceType)]
        _ticket(session, work, served[n % len(served)], priority=priority, kind=kind, fate=fate, clock=clock)
    return count


def _ticket(
    session: Session,
    work: _Desk,
    customer: _DemoCustomer,
    *,
    priority: Priority,
    kind: ServiceType,
    fate: str,
    clock: str,
) -> None:
    rng = work.rng
    response_h, resolution_h = work.targets[priority]
    share = {"ok": 0.3, "at_risk": 0.9, "breached": 1.6, "met": 2.0, "late": 2.0}[clock]
    if fate in ("open", "auto", "cancelled"):
        created = work.ago(share * response_h)
    elif fate == "closed":
        created = work.ago(share * resolution_h + WORKING_DAY)
    elif fate == "reopened":
        created = work.ago(1.2 * resolution_h)
    else:
        created = work.ago(share * resolution_h)
    # Sales reps open tickets for their customers as often as the customer's agent does.
    opener = work.actors.get(customer.sales_id or 0) if rng.random() < 0.5 else None
    with _desk_clock(created):
        ticket = desk.create_ticket(
            session,
            opener or work.actors[customer.service_id or 0],
            desk_schemas.ServiceRecordCreate(
                customer_id=customer.id,
                contact_id=rng.choice(customer.contact_ids) if customer.contact_ids else None,
                service_type=kind,
                priority=priority,
                subject=rng.choice(SUBJECTS[kind]),
                description=rng.choice(DETAILS),
                tags=rng.sample(["重点客户", "回访", "加急", "续约期"], rng.randint(0, 2)),
            ),
        )
    if fate == "auto":  # left with the agent automatic assignment chose (or waiting in its queue)
        return
    # The team's manager gives most tickets to the customer's own agent.
    agent_id = customer.service_id if rng.random() < 0.8 else rng.choice(work.agents)
    with _desk_clock(work.after(created, 0.1 * response_h)):
        ticket = desk.assign_ticket(
            session,
            work.manager,
            ticket.id,
            desk_schemas.Assign(version=ticket.version, assigned_staff_id=agent_id or 0),
        )
    agent = work.actors[agent_id or 0]
    if fate == "open":
        return
    if fate == "cancelled":
        with _desk_clock(work.after(created, 0.2 * response_h)):
            desk.transition(session, agent, ticket.id, Action.CANCEL, ticket.version, text="客户已自行解决，撤销工单")
        return
    with _desk_clock(work.after(created, 0.25 * response_h)):
        ticket = desk.transition(session, agent, ticket.id, Action.START, ticket.version)
    if fate == "escalated":
        with _desk_clock(work.after(created, 0.3 * response_h)):
            reason = desk_schemas.Escalate(version=ticket.version, reason="重点客户，要求加急处理")
            desk.escalate(session, agent, ticket.id, reason)
    if fate in ("resolved", "closed", "reopened"):
        hours = resolution_h * (1.4 if clock == "late" else 0.6)
        _finish(session, work, agent, ticket, created=created, hours=hours, fate=fate)


def _finish(
    session: Session, work: _Desk, agent: Actor, ticket: ServiceRecord, *, created: datetime, hours: float, fate: str
) -> None:
    resolved_at = work.after(created, hours)
    with _desk_clock(resolved_at):
        text = work.rng.choice(RESOLUTIONS)
        ticket = desk.transition(session, agent, ticket.id, Action.RESOLVE, ticket.version, text=text)
    if fate in ("resolved", "closed") and work.rng.random() < 0.75:
        _answer_survey(session, work, ticket, late=hours > work.targets[ticket.priority][1])
    if fate == "closed":
        with _desk_clock(work.after(resolved_at, 0.5 * WORKING_DAY)):
            desk.transition(session, agent, ticket.id, Action.CLOSE, ticket.version)
    elif fate == "reopened":
        with _desk_clock(work.after(resolved_at, 1.0)):
            desk.transition(session, agent, ticket.id, Action.REOPEN, ticket.version, text="客户反馈问题再次出现")


FEEDBACK = {
    5: ["处理及时，非常满意", "工程师很专业，问题一次解决", ""],
    4: ["整体满意，响应可以再快一点", "解决了问题，谢谢", ""],
    3: ["问题解决了，但等待时间较长", ""],
    2: ["处理太慢，影响了我们的业务", "沟通不够主动"],
    1: ["等了很久才有人联系，非常不满意"],
}


def _answer_survey(session: Session, work: _Desk, ticket: ServiceRecord, *, late: bool) -> None:
    """The customer answers the survey the resolution sent, from its link, as on the public page."""
    survey = surveys.latest_of(session, [ticket.id]).get(ticket.id)
    if survey is None:
        return
    rating = work.rng.choices([1, 2, 3, 4, 5], [2, 3, 3, 2, 1] if late else [0, 1, 2, 4, 6])[0]
    feedback = work.rng.choice(FEEDBACK[rating]) or None
    surveys.answer(session, surveys.token_of(survey), rating, feedback)


# ---------------------------------------------------------------- orders and receivables

# (product code, name, category, unit price range in yuan)
PRODUCTS: list[tuple[str, str, str, tuple[int, int]]] = [
    ("HV-AC100", "中央空调主机", "暖通设备", (38_000, 160_000)),
    ("HV-FC220", "风机盘管", "暖通设备", (1_800, 4_500)),
    ("HV-HP300", "空气源热泵机组", "暖通设备", (22_000, 85_000)),
    ("HV-VRF40", "多联机室外机", "暖通设备", (16_000, 60_000)),
    ("PT-VL010", "电动调节阀", "配件", (600, 2_400)),
    ("PT-TH020", "智能温控器", "配件", (280, 900)),
    ("PT-FL030", "高效过滤网", "配件", (90, 400)),
    ("PT-PU040", "循环水泵", "配件", (2_500, 9_000)),
    ("SV-IN100", "安装调试服务", "服务", (3_000, 20_000)),
    ("SV-MA200", "年度维保合同", "服务", (8_000, 60_000)),
    ("SV-TR300", "操作培训", "服务", (1_500, 6_000)),
]
# What a customer of each level spends in a year (yuan) and how many orders a month they place:
# the grading rules (A ≥ 500k a year, B ≥ 200k, C ≥ 50k) mostly give them back their level.
SPEND = {"A": (550_000, 1_400_000), "B": (220_000, 480_000), "C": (60_000, 190_000), "D": (5_000, 45_000)}
RATE = {"A": 1.3, "B": 0.8, "C": 0.5, "D": 0.2}
# Orders by month: more before 春节 (January) and in Q4, few in February (the holiday).
SEASON = {1: 1.5, 2: 0.45, 3: 0.9, 4: 1.0, 5: 1.0, 6: 1.05, 7: 0.9, 8: 0.85, 9: 1.1, 10: 1.2, 11: 1.3, 12: 1.45}
HISTORY_MONTHS = 24
ORDER_BATCH = 25  # the feed takes up to 1,000
HISTORY_SNAPSHOTS = 12  # month-end value analyses before today's


def _month_starts(today: date) -> list[date]:
    first = today.replace(day=1)
    months = []
    for back in range(HISTORY_MONTHS, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        months.append(date(year, month + 1, 1))
    return months


def _split(total: Decimal, parts: int, rng: random.Random) -> list[Decimal]:
    """``total`` in ``parts`` positive amounts (to the fen) that add up to it exactly."""
    weights = [rng.uniform(0.5, 2.0) for _ in range(parts)]
    cents = int(total * 100)
    shares = [max(1, int(cents * w / sum(weights))) for w in weights[:-1]]
    shares.append(cents - sum(shares))
    return [Decimal(c) / 100 for c in shares]


def _status(age_days: int, rng: random.Random) -> OrderStatus:
    roll = rng.random()
    if roll < 0.05:
        return OrderStatus.CANCELLED
    if roll < 0.08 and age_days > 14:
        return OrderStatus.REFUNDED
    if age_days < 7:
        return rng.choice([OrderStatus.CREATED, OrderStatus.PAID, OrderStatus.SHIPPED])
    if age_days < 30:
        return rng.choice([OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.COMPLETED])
    return OrderStatus.COMPLETED


def _order(customer_id: int, number: str, when: datetime, amount: Decimal, status: OrderStatus, *,
           rng: random.Random) -> order_schemas.OrderIn:  # fmt: skip
    lines = rng.sample(PRODUCTS, rng.choices([1, 2, 3], [5, 3, 2])[0])
    items = []
    for (code, name, category, (low, high)), share in zip(lines, _split(amount, len(lines), rng), strict=True):
        quantity = max(1, min(500, int(share // ((low + high) // 2)) or 1))
        items.append(order_schemas.OrderItemIn(product_code=code, product_name=name, category=category,
                                               quantity=quantity, amount=share))  # fmt: skip
    cost = margin = None
    roll = rng.random()
    if roll < 0.85:
        cost = (amount * Decimal(str(round(rng.uniform(0.55, 0.8), 3)))).quantize(Decimal("0.01"))
    elif roll < 0.95:
        margin = (amount * Decimal(str(round(rng.uniform(0.15, 0.4), 3)))).quantize(Decimal("0.01"))
    return order_schemas.OrderIn(
        order_no=number, customer_id=customer_id, status=status, order_date=when, amount=amount,
        cost=cost, margin=margin, source_updated_at=when, items=items,
    )  # fmt: skip


def _orders(session: Session, actor: Actor, customers: list[_DemoCustomer], rng: random.Random, today: date) -> str:
    """Two years of orders through the order feed (1,000 a batch) and receivables through theirs."""
    now = utcnow()
    months = _month_starts(today)
    start = months[0]
    sent: list[order_schemas.OrderIn] = []
    churned = 0
    last_order: dict[int, date] = {}
    for customer in customers:
        if rng.random() < 0.08:
            continue  # no orders yet
        level = customer.level.value
        yearly = rng.uniform(*SPEND[level])
        rate = RATE[level] * rng.uniform(0.7, 1.3)
        average = yearly / 12 / rate
        since = max(customer.acquired, start)
        until = today
        # A few steady B and C buyers stopped ordering 4–6 months ago: the churners.
        if level in ("B", "C") and since < start + timedelta(days=120) and rng.random() < 0.12:
            until = today - timedelta(days=rng.randint(120, 185))
            churned += 1
        for month in months:
            expected = rate * SEASON[month.month]
            count = int(expected) + (rng.random() < expected - int(expected))
            for _ in range(count):
                day = month + timedelta(days=rng.randint(0, 27))
                if day < since or day >= until:
                    continue
                when = _at_local(day, rng)
                if when >= now:
                    continue
                amount = Decimal(str(round(max(200.0, average * rng.lognormvariate(0, 0.35)), 2)))
                number = f"SO{day:%Y%m%d}{len(sent) + 1:05d}"
                sent.append(_order(customer.id, number, when, amount, _status((today - day).days, rng), rng=rng))
                last_order[customer.id] = max(last_order.get(customer.id, day), day)
    sent.sort(key=lambda o: o.order_date)
    # Each new order's items are replaced by an ORM DELETE that checks every object the session
    # holds: feeding small batches into an emptied session keeps that check short.
    for begin in range(0, len(sent), ORDER_BATCH):
        session.flush()
        session.expunge_all()
        orders_service.upsert_orders(session, actor, sent[begin : begin + ORDER_BATCH])
    receivables = overdue = 0
    for customer in customers:
        bought = last_order.get(customer.id)
        if bought is None or not customer.enterprise or (today - bought).days > 150 or rng.random() < 0.55:
            continue
        owed = []
        for n in range(rng.randint(1, 3)):
            due = bought + timedelta(days=rng.randint(15, 90) - 30 * n)
            late = max(0, (today - due).days) if rng.random() < 0.35 else 0
            overdue += late > 0
            owed.append(order_schemas.ReceivableIn(
                reference=f"AR{customer.id:06d}{n + 1:02d}",
                amount_due=Decimal(str(round(rng.uniform(2_000, 120_000), 2))) if late or due > today else Decimal(0),
                due_date=due, overdue_days=late,
            ))  # fmt: skip
        orders_service.upsert_receivables(session, actor, customer.id, owed)
        receivables += len(owed)
    return f"{len(sent)} orders ({churned} customers stopped buying), {receivables} receivables ({overdue} overdue)"
