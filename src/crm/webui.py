"""The built web UI (web/ → src/crm/static/), served by the API process at ``/``.

Files of the build are served as they are; any other path outside ``/api`` is a client-side
route of the single-page app and gets ``index.html``. Paths under ``/api`` never reach this
module: they match no route here, so an unknown API path still answers the API's 404
problem document (and a wrong method its 405).
"""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

STATIC_DIR = Path(__file__).resolve().parent / "static"

# The UI gets its own policy: the API's `default-src 'none'` would block the app itself.
# Element Plus positions popovers with inline style attributes, hence 'unsafe-inline' for styles.
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Vite names every asset after its content hash, so an asset never changes under its name.
IMMUTABLE = "public, max-age=31536000, immutable"

# Browsers and Vite's output use these; the platform's mimetypes table may lack some of them.
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("font/woff2", ".woff2")
mimetypes.add_type("application/manifest+json", ".webmanifest")


class _WebPath(Convertor[str]):
    """Any path except ``api`` and what lies below it."""

    regex = r"(?!api(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("webpath", _WebPath())

_NOT_BUILT = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>CRM 客户关系管理</title>
<style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:4rem auto;padding:0 1rem;line-height:1.6}}
code,pre{{background:#f4f4f5;padding:.1rem .3rem;border-radius:4px}}pre{{padding:.8rem}}</style></head>
<body>
<h1>网页界面尚未构建</h1>
<p>在项目根目录运行 <code>make run</code>（会自动构建界面），或手动构建：</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>构建结果写入 <code>{static}</code>。API 已在运行：<a href="/api/docs">/api/docs</a>。</p>
<hr>
<h1 lang="en">The web UI is not built yet</h1>
<p lang="en">Run <code>make run</code> at the project root (it builds the UI), or build it by hand
with the commands above; the build goes to <code>{static}</code>.
The API is running: <a href="/api/docs">/api/docs</a>.</p>
</body>
</html>
"""


def _file_in(root: Path, relative: str) -> Path | None:
    """The regular file ``relative`` names inside ``root``, refusing anything that escapes it."""
    if not relative or "\x00" in relative:
        return None
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


# Client-side routes whose last segment may contain dots (a token), so never a file.
CLIENT_ROUTES_WITH_DOTS = ("survey/",)


def install_web_ui(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    """Serve the UI build from ``static_dir``; call it after the API routers are included."""

    @app.api_route("/{path:webpath}", methods=["GET", "HEAD"], include_in_schema=False)
    def web_ui(path: str) -> Response:
        # Resolved per request: the build may appear (or be rebuilt) while the server runs.
        root = static_dir.resolve()
        index = root / "index.html"
        if not index.is_file():
            page = _NOT_BUILT.format(static=html.escape(str(root)))
            return HTMLResponse(page, status_code=503, headers={"Cache-Control": "no-store", "Retry-After": "60"})
        found = _file_in(root, path)
        if found is not None and found != index:
            cache = IMMUTABLE if path.startswith("assets/") else "public, max-age=3600"
            return FileResponse(found, headers={"Cache-Control": cache})
        # A missing file (a script of an older build, a mistyped image) is a 404, not the app:
        # the browser would otherwise try to run index.html as JavaScript.
        # Survey links end in a signed token, whose dots make them look like file names.
        last = path.rsplit("/", 1)[-1]
        if path.startswith("assets/") or ("." in last and not path.startswith(CLIENT_ROUTES_WITH_DOTS)):
            raise StarletteHTTPException(status_code=404)
        # index.html names the current assets, so it is revalidated on every visit.
        return FileResponse(index, headers={"Cache-Control": "no-cache", "Content-Security-Policy": UI_CSP})
