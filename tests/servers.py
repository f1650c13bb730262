"""Throwaway PostgreSQL and Redis servers on loopback for the test suite and benchmarks.

A server is started in a fresh temporary directory on a free port and removed afterwards.
PostgreSQL refuses to run as root, so as root the cluster is owned and run by `postgres`.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    found = candidates[0] if candidates else shutil.which(name)
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} was not found: install Debian's `postgresql` package "
            "(make test does this when run as root)."
        )
    return found


def _run_as_owner(args: list[str], owner: str | None) -> None:
    if owner:
        command = " ".join(f"'{a}'" for a in args)
        subprocess.run(["su", owner, "-s", "/bin/sh", "-c", command], check=True, capture_output=True)
    else:
        subprocess.run(args, check=True, capture_output=True)


@contextlib.contextmanager
def postgres_server(*, extra_conf: dict[str, str] | None = None) -> Iterator[str]:
    """Start PostgreSQL, yield a SQLAlchemy URL to an empty database ``crm``, then remove it."""
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    owner = "postgres" if os.geteuid() == 0 else None
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if owner:
        shutil.chown(root, owner)
        shutil.chown(sockets, owner)
    port = free_port()
    _run_as_owner(
        [_pg_bin("initdb"), "-D", str(data), "-U", "crm", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"],
        owner,
    )
    conf = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{sockets}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        **(extra_conf or {}),
    }
    with open(data / "postgresql.auto.conf", "a") as handle:
        handle.writelines(f"{k} = {v}\n" for k, v in conf.items())
    _run_as_owner([_pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "start"], owner)
    try:
        deadline = time.monotonic() + 30
        while True:
            result = subprocess.run(
                [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "crm", "crm"],
                capture_output=True,
                check=False,
            )
            if result.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(result.stderr.decode())
            time.sleep(0.2)
        yield f"postgresql+psycopg://crm@127.0.0.1:{port}/crm"
    finally:
        with contextlib.suppress(Exception):
            _run_as_owner([_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], owner)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """Start a Redis server that keeps nothing on disk; yield its URL, then stop it."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("redis-server was not found: install Debian's `redis-server` package (make test does).")
    root = Path(tempfile.mkdtemp(prefix="crm-redis-"))
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(root)]
    with (root / "log").open("wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(root / 'log').read_text()}")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that `finally` stops and removes the cluster."""

    def handler(_signum: int, _frame: object) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, handler)


if __name__ == "__main__":  # a server for manual work: python tests/servers.py
    exit_on_sigterm()
    with postgres_server() as url:
        print(url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
