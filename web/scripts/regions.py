"""Write web/src/data/regions.json: the provinces the API accepts, each with its cities.

Provinces are the API's own list (crm.kit.regions); cities are those of the demo data
(crm.demo.CITIES), completed for the provinces it has none for. The API accepts any city
name; the UI offers these in its cascader and keeps a city it does not know.
Usage: python scripts/regions.py OUTPUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from crm.demo import CITIES
from crm.kit.regions import DEFAULT_PROVINCE_REGIONS

MORE_CITIES = {
    "青海省": ["西宁市", "海东市"],
    "西藏自治区": ["拉萨市", "日喀则市"],
    "台湾省": ["台北市", "新北市", "台中市", "台南市", "高雄市"],
    "香港特别行政区": ["香港特别行政区"],
    "澳门特别行政区": ["澳门特别行政区"],
}


def main() -> None:
    provinces = [
        {
            "name": province,
            "region": region.value,
            "cities": CITIES.get(province) or MORE_CITIES.get(province) or [province],
        }
        for province, region in DEFAULT_PROVINCE_REGIONS.items()
    ]
    target = Path(sys.argv[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(provinces, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
