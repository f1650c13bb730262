"""Realistic zh-CN demo data: users across regions, ~300 customers with contacts and addresses.

Everything goes through the services, so demo rows obey the same rules as real ones.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from faker import Faker
from sqlalchemy.orm import Session

from crm.customers import schemas, service
from crm.kit.clock import business_today
from crm.kit.phones import normalise_phone
from crm.kit.regions import DEFAULT_PROVINCE_REGIONS, Region
from crm.models.enums import (
    AddressType,
    CompanySize,
    CreditRating,
    CustomerLevel,
    CustomerStatus,
    CustomerType,
    Role,
)
from crm.users.service import actor_for, create_user, get_or_create_tenant

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "crm-demo-2026!"  # noqa: S105 - the published demo login, printed by make run

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
    tenant = get_or_create_tenant(session, "default")
    tenant.name = "演示公司"

    admin = create_user(
        session, tenant=tenant, username=DEMO_ADMIN, password=DEMO_PASSWORD, role=Role.ADMIN, display_name="系统管理员"
    )
    sales_by_region: dict[Region, list[int]] = {}
    pinyin = {Region.EAST: "east", Region.SOUTH: "south", Region.NORTH: "north", Region.CENTRAL: "central",
              Region.SOUTHWEST: "southwest", Region.NORTHWEST: "northwest", Region.NORTHEAST: "northeast"}  # fmt: skip
    for region in Region:
        manager = create_user(
            session, tenant=tenant, username=f"manager.{pinyin[region]}", password=DEMO_PASSWORD,
            role=Role.SALES_MANAGER, region=region, display_name=f"{fake.name()}（{region.value}经理）",
        )  # fmt: skip
        reps = [manager.id]
        for n in range(1, 3 if region in (Region.EAST, Region.SOUTH, Region.NORTH) else 2):
            rep = create_user(
                session, tenant=tenant, username=f"sales.{pinyin[region]}{n}", password=DEMO_PASSWORD,
                role=Role.SALES, region=region, display_name=fake.name(),
            )  # fmt: skip
            reps.append(rep.id)
        sales_by_region[region] = reps
    create_user(session, tenant=tenant, username="service.manager", password=DEMO_PASSWORD,
                role=Role.SERVICE_MANAGER, region=Region.EAST, display_name=fake.name(), team="客服一组")  # fmt: skip
    agents = [
        create_user(session, tenant=tenant, username=f"service.agent{n}", password=DEMO_PASSWORD,
                    role=Role.SERVICE_AGENT, display_name=fake.name(), team="客服一组").id
        for n in (1, 2, 3)
    ]  # fmt: skip
    create_user(session, tenant=tenant, username="marketer", password=DEMO_PASSWORD, role=Role.MARKETER,
                display_name=fake.name())  # fmt: skip
    create_user(session, tenant=tenant, username="analyst", password=DEMO_PASSWORD, role=Role.ANALYST,
                display_name=fake.name())  # fmt: skip
    session.flush()

    actor = actor_for(admin)
    provinces = list(PROVINCE_WEIGHTS)
    weights = [PROVINCE_WEIGHTS[p] for p in provinces]
    today = business_today()
    contacts_made = addresses_made = 0
    for _ in range(customers):
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
        service.create_customer(session, actor, data)
        contacts_made += len(contacts)
        addresses_made += len(addresses)
    return (
        f"loaded tenant {tenant.code}: {customers} customers, {contacts_made} contacts, "
        f"{addresses_made} addresses, users for 7 regions"
    )
