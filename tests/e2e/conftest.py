"""End-to-end fixtures: one real server (SQLite, demo data) and one Chromium for the session.

The server is `crm serve` in a subprocess on a free port with a temporary database, exactly as
`make run` starts it, serving the built UI from src/crm/static. The browser is Debian's
Chromium driven by Playwright; each test gets a fresh browser context (own storage, zh-CN).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
STATIC_INDEX = ROOT / "src" / "crm" / "static" / "index.html"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CRM_E2E_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "crm-demo-2026!"  # the published demo password (crm.demo)
CLI = str(Path(sys.executable).parent / "crm")
# The README shows these; they are refreshed by `make screenshots` (CRM_UPDATE_SCREENSHOTS=1),
# not by every test run, so that `make test` leaves the working tree as it was.
README_SCREENSHOTS = {"workbench", "customers", "customer-360", "customer-timeline", "service-desk", "ticket"}


def _missing(reason: str) -> None:
    # `make test` sets CRM_E2E_REQUIRED so a missing build or browser fails there; a plain
    # `pytest` on a machine without them skips these tests and says why.
    if os.environ.get("CRM_E2E_REQUIRED"):
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class Server:
    url: str

    def token(self, username: str) -> str:
        answer = httpx.post(f"{self.url}/api/v1/auth/login", data={"username": username, "password": PASSWORD})
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def api(self, username: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/api/v1", headers={"Authorization": f"Bearer {self.token(username)}"}, timeout=30
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not STATIC_INDEX.exists():
        _missing("the web UI is not built (src/crm/static/index.html): run `make web`")
    root = tmp_path_factory.mktemp("e2e")
    port = free_port()
    env = {
        **os.environ,
        "CRM_DATABASE_URL": f"sqlite:///{root / 'crm.db'}",
        "CRM_VAR_DIR": str(root / "var"),
        "CRM_HOST": "127.0.0.1",
        "CRM_PORT": str(port),
    }
    for args in (["db", "upgrade"], ["demo", "load", "--customers", "120"]):
        subprocess.run([CLI, *args], env=env, check=True, capture_output=True, cwd=root)  # noqa: S603 - our own CLI
    log = (root / "server.log").open("wb")
    process = subprocess.Popen([CLI, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # only while the process lives: a busy machine starts it slowly
        while True:
            try:
                if httpx.get(f"{url}/api/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"crm serve did not start; see {root / 'server.log'}")
            time.sleep(0.2)
        yield Server(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@dataclass(frozen=True)
class Demo:
    """Records of the demo data the scenarios use, found through the API."""

    sales_id: int
    sales_name: str
    own_customer: dict[str, Any]
    other_customer: dict[str, Any]
    keyword: str
    pending_approval_id: int
    approval_customer_id: int


@pytest.fixture(scope="session")
def demo(server: Server) -> Demo:
    with server.api("sales.east1") as sales, server.api("admin") as admin:
        me = sales.get("/auth/me").json()
        own = sales.get("/crm/customers", params={"page_size": 100, "sort": "customer_code"}).json()["items"]
        with_contacts = [c for c in own if sales.get(f"/crm/customers/{c['id']}/contacts").json()]
        others = admin.get("/crm/customers", params={"page_size": 100, "sort": "customer_code"}).json()["items"]
        other = next(c for c in others if c["assigned_sales_id"] != me["id"])
        # A request waiting in the manager's inbox: a sales rep may not delete, only ask.
        target = with_contacts[-1]
        asked = sales.delete(f"/crm/customers/{target['id']}")
        assert asked.status_code == 202, asked.text
        # A 2-character Chinese keyword taken from a real name: the search must find it.
        keyword = next(
            name[i : i + 2]
            for name in (c["customer_name"] for c in others)
            for i in range(len(name) - 1)
            if "科技" in name and name[i : i + 2] == "科技"
        )
        return Demo(
            sales_id=me["id"],
            sales_name=me["display_name"],
            own_customer=with_contacts[0],
            other_customer=other,
            keyword=keyword,
            pending_approval_id=asked.json()["id"],
            approval_customer_id=target["id"],
        )


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        _missing(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` (make system-deps)")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


class Pages:
    """Signing in and screenshots, shared by the scenarios."""

    def __init__(self, server: Server, page: Page) -> None:
        self.server = server
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, path: str) -> None:
        self.page.goto(f"{self.server.url}{path}")

    def login(self, username: str) -> None:
        """Sign in through the login form."""
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.get_by_role("button", name="登录").click()

    def signed_in(self, username: str, path: str = "/workbench") -> None:
        """Start signed in (token from the API, as the app stores it), at ``path``."""
        answer = httpx.post(f"{self.server.url}/api/v1/auth/login", data={"username": username, "password": PASSWORD})
        answer.raise_for_status()
        token = answer.json()
        self.page.context.add_init_script(
            "localStorage.setItem('crm.session', JSON.stringify("
            f"{{token: '{token['access_token']}', expiresAt: '{token['expires_at']}'}}))"
        )
        self.open(path)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        # Let charts finish their entry animation and spinners go.
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(600)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        if name in README_SCREENSHOTS and os.environ.get("CRM_UPDATE_SCREENSHOTS"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, SCREENSHOTS / path.name)


@pytest.fixture
def ui(server: Server, page: Page) -> Iterator[Pages]:
    pages = Pages(server, page)
    yield pages
    assert pages.errors == [], "uncaught errors in the page"
