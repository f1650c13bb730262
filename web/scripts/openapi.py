"""Write the API's OpenAPI document as JSON, without a running server or a database.

Used by `npm run openapi`, which turns it into web/src/api/schema.d.ts with openapi-typescript.
Usage: python scripts/openapi.py OUTPUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from crm.app import create_app


def main() -> None:
    target = Path(sys.argv[1])
    # The engine is created lazily and never connected: building the spec needs no database.
    spec = create_app(check_migrations=False).openapi()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(spec, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
