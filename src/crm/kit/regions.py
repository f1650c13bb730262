"""Mainland China's provincial-level divisions and the default sales-region mapping."""

from __future__ import annotations

from enum import StrEnum


class Region(StrEnum):
    EAST = "华东"
    SOUTH = "华南"
    NORTH = "华北"
    CENTRAL = "华中"
    SOUTHWEST = "西南"
    NORTHWEST = "西北"
    NORTHEAST = "东北"


# Full official name → default region. Hong Kong and Macao are sold from 华南 and Taiwan
# from 华东 in most Chinese sales organisations; a tenant can remap any province.
DEFAULT_PROVINCE_REGIONS: dict[str, Region] = {
    "北京市": Region.NORTH,
    "天津市": Region.NORTH,
    "河北省": Region.NORTH,
    "山西省": Region.NORTH,
    "内蒙古自治区": Region.NORTH,
    "辽宁省": Region.NORTHEAST,
    "吉林省": Region.NORTHEAST,
    "黑龙江省": Region.NORTHEAST,
    "上海市": Region.EAST,
    "江苏省": Region.EAST,
    "浙江省": Region.EAST,
    "安徽省": Region.EAST,
    "福建省": Region.EAST,
    "江西省": Region.EAST,
    "山东省": Region.EAST,
    "台湾省": Region.EAST,
    "河南省": Region.CENTRAL,
    "湖北省": Region.CENTRAL,
    "湖南省": Region.CENTRAL,
    "广东省": Region.SOUTH,
    "广西壮族自治区": Region.SOUTH,
    "海南省": Region.SOUTH,
    "香港特别行政区": Region.SOUTH,
    "澳门特别行政区": Region.SOUTH,
    "重庆市": Region.SOUTHWEST,
    "四川省": Region.SOUTHWEST,
    "贵州省": Region.SOUTHWEST,
    "云南省": Region.SOUTHWEST,
    "西藏自治区": Region.SOUTHWEST,
    "陕西省": Region.NORTHWEST,
    "甘肃省": Region.NORTHWEST,
    "青海省": Region.NORTHWEST,
    "宁夏回族自治区": Region.NORTHWEST,
    "新疆维吾尔自治区": Region.NORTHWEST,
}

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def _short(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


_BY_SHORT = {_short(full): full for full in DEFAULT_PROVINCE_REGIONS}
_BY_SHORT.update({"内蒙": "内蒙古自治区", "香港": "香港特别行政区", "澳门": "澳门特别行政区"})


def normalise_province(value: str) -> str | None:
    """Return the official full name for 广东, 广东省 or 广东 省; None if it is not a province."""
    text = "".join(value.split())
    if text in DEFAULT_PROVINCE_REGIONS:
        return text
    return _BY_SHORT.get(_short(text))
