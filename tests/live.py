"""A real API process (`crm serve`, uvicorn) on a test database, for tests of what only a server shows:
concurrency, overload, several processes."""

from __future__ import annotations

import base64
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from crm.config import settings
from crm.kit.crypto import Keyring
from tests.servers import free_port

CLI = str(Path(sys.executable).parent / "crm")


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode()


@contextlib.contextmanager
def api_process(url: str, keys: Keyring, root: Path, **env: str) -> Iterator[str]:
    """`crm serve` on ``url`` with the suite's keys and signing key (so tokens and encrypted values
    made by the test are the server's too); ``env`` adds CRM_* settings. Yields the base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "CRM_DATABASE_URL": url,
        "CRM_VAR_DIR": str(root / "var"),
        "CRM_SECRET_KEY": settings.signing_key,
        "CRM_ENCRYPTION_KEYS": ",".join(f"{key_id}={_b64(key)}" for key_id, key in keys.keys.items()),
        "CRM_ENCRYPTION_ACTIVE_KEY": keys.active,
        "CRM_BLIND_INDEX_KEY": _b64(keys.blind_key),
        "CRM_RUN_JOBS_IN_PROCESS": "false",
        **env,
    }
    log_path = root / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # only while the process lives: a busy machine starts it slowly
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/api/openapi.json", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"crm serve did not start: {log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_log(root: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(root.glob("server-*.log")))
