"""Throughput under a realistic read mix, and behaviour under many concurrent clients, through the
real HTTP API, next to a bare FastAPI endpoint on the same machine in the same run.

    .venv/bin/python -m bench.load                       # 200,000 customers, 1,000,000 interactions
    .venv/bin/python -m bench.load --customers 20000 --duration 5    # a quick check
    .venv/bin/python -m bench.load --help

1. starts a throwaway PostgreSQL, migrates it, creates a tenant with an admin, ~50 sales reps and
   7 regional managers, bulk-loads the customers (bench.customers) and interactions with pending
   follow-ups (bench.interactions);
2. starts ``crm serve`` with its default workers (one per CPU on PostgreSQL) and, beside it, the
   bare endpoint (bench/bare.py: one row by primary key) with as many uvicorn workers;
3. signs every user in and writes a wrk script cycling through a fixed request mix, each request
   as a user who may make it: 40 % keyword search (two characters of a firm name, a name prefix,
   a phone's last four digits), 30 % customer 360 (``GET /customers/{id}``), 20 % customer list
   filtered by level, 10 % pending follow-ups;
4. runs wrk for ``--duration`` seconds at each of ``--clients`` (8, 32, 128, 512 connections)
   against the CRM, and at ``--bare-clients`` (8, 32) against the bare endpoint;
5. prints requests/s, latency percentiles and every status code per run, checks the targets and
   writes bench/results/load.json.

Every answer other than 2xx is counted by status: 503 is load shedding (allowed), anything else
5xx is a failure of the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
from tests.servers import exit_on_sigterm, free_port, postgres_server

from bench.customers import (
    CONTACTS_PER_CUSTOMER,
    PG_CONF,
    SEARCH,
    Generator,
    Pools,
    _is_cjk,
    api_server,
    conninfo,
    create_users,
    load,
    use_throwaway_keys,
)
from bench.interactions import catch_up_reminders, create_managers, load_interactions, sign_in
from crm.kit.migrate import upgrade

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "load.json"
MIX = {"search": 40, "customer_360": 30, "list_by_level": 20, "pending_follow_ups": 10}
CALLS = 20_000  # the mix's length; wrk cycles through it, each thread from its own offset
TARGET_RPS = 300.0
TARGET_P95_MS = 150.0
TARGET_SHARE_OF_BARE = 0.20


# ---------------------------------------------------------------- who asks for what


@dataclass(frozen=True)
class People:
    admin: str
    managers: dict[str, str]  # region → token
    reps: dict[int, str]  # user id → token


def sign_everyone_in(base: str, url: str) -> People:
    with psycopg.connect(conninfo(url)) as conn:
        rows = conn.execute("SELECT id, username, role, region FROM users ORDER BY id").fetchall()
    admin, managers, reps = "", {}, {}
    for user_id, username, role, region in rows:
        token = sign_in(base, username)
        if role == "admin":
            admin = token
        elif role == "sales_manager":
            managers[str(region)] = token
        elif role == "sales":
            reps[int(user_id)] = token
    return People(admin, managers, reps)


def build_mix(url: str, generator: Generator, people: People, rng: random.Random) -> list[tuple[str, str]]:
    """(token, path) pairs in the mix's proportions, each asked by someone whose scope holds it."""
    samples = generator.samples
    with psycopg.connect(conninfo(url)) as conn:
        owned = {
            int(cid): (str(region), owner)
            for cid, region, owner in conn.execute(
                "SELECT id, region, assigned_sales_id FROM customers WHERE id = ANY(%s)", [[s.id for s in samples]]
            )
        }
    enterprises = [s for s in samples if s.stem and len([c for c in s.stem if _is_cjk(c)]) >= 2]
    readers = [people.admin, *people.managers.values()]
    rep_tokens = list(people.reps.values())

    def search() -> tuple[str, str]:
        kind = rng.random()
        if kind < 0.4:
            stem = rng.choice(enterprises).stem or ""
            pairs = [stem[i : i + 2] for i in range(len(stem) - 1) if _is_cjk(stem[i]) and _is_cjk(stem[i + 1])]
            keyword = rng.choice(pairs)
        elif kind < 0.8:
            keyword = rng.choice(samples).name[: rng.choice((3, 4))]
        else:
            keyword = rng.choice(rng.choice(samples).phones)[-4:]
        return rng.choice(readers), f"{SEARCH}?keyword={quote(keyword)}"

    def customer_360() -> tuple[str, str]:
        sample = rng.choice(samples)
        region, owner = owned[sample.id]
        candidates = [people.admin, people.managers.get(region, people.admin)]
        if owner is not None and int(owner) in people.reps:
            candidates.append(people.reps[int(owner)])
        return rng.choice(candidates), f"/api/v1/crm/customers/{sample.id}"

    def list_by_level() -> tuple[str, str]:
        level = rng.choice("ABCD")
        page = rng.choice((1, 1, 1, 2, 3))
        return rng.choice([*readers, *rep_tokens]), f"/api/v1/crm/customers?level={level}&page={page}"

    def pending() -> tuple[str, str]:
        return rng.choice([*rep_tokens, *people.managers.values()]), "/api/v1/crm/interactions/pending_follow_up?days=7"

    makers = {
        "search": search,
        "customer_360": customer_360,
        "list_by_level": list_by_level,
        "pending_follow_ups": pending,
    }
    kinds = [kind for kind, weight in MIX.items() for _ in range(weight)]
    return [makers[rng.choice(kinds)]() for _ in range(CALLS)]


# ---------------------------------------------------------------- wrk

# Counting every status per thread and printing one JSON line: wrk's own summary lumps all
# non-2xx/3xx answers together, and a 503 (load shed) must be told apart from a 500.
RESULT_LUA = """
local threads = {}
local created = 0
function setup(thread)
  created = created + 1
  thread:set("position", created * 997)
  table.insert(threads, thread)
end

position = 0
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%d": %d', status, n)) end
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"statuses": {%s}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, table.concat(parts, ", ")))
end
"""

MIX_LUA = """
function request()
  position = position + 1
  local call = CALLS[(position % #CALLS) + 1]
  return wrk.format("GET", call[2], {["Authorization"] = "Bearer " .. TOKENS[call[1]]})
end
"""

BARE_LUA = """
function request()
  position = position + 1
  return wrk.format("GET", "/customers/" .. IDS[(position % #IDS) + 1])
end
"""


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_mix_script(path: Path, calls: list[tuple[str, str]]) -> None:
    tokens = sorted({token for token, _ in calls})
    index = {token: n + 1 for n, token in enumerate(tokens)}
    data = "TOKENS = {" + ", ".join(_lua_string(t) for t in tokens) + "}\n"
    data += "CALLS = {" + ", ".join(f"{{{index[t]}, {_lua_string(p)}}}" for t, p in calls) + "}\n"
    path.write_text(data + RESULT_LUA + MIX_LUA)


def write_bare_script(path: Path, ids: list[int]) -> None:
    path.write_text("IDS = {" + ", ".join(str(i) for i in ids) + "}\n" + RESULT_LUA + BARE_LUA)


def run_wrk(base: str, script: Path, clients: int, duration: int) -> dict[str, Any]:
    threads = min(2, clients)
    command = [
        "wrk", f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--timeout", "60s", "-s", str(script), base,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^RESULT (.*)$", output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    result: dict[str, Any] = json.loads(found.group(1))
    result["clients"] = clients
    result["rps"] = round(result["requests"] / result["seconds"], 1)
    statuses = {int(k): v for k, v in result["statuses"].items()}
    result["statuses"] = {str(k): statuses[k] for k in sorted(statuses)}
    result["5xx_not_503"] = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
    result["shed_503"] = statuses.get(503, 0)
    result["ok_2xx"] = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return result


@contextlib.contextmanager
def bare_server(url: str, workers: int, log_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "CRM_DATABASE_URL": url}
    uvicorn = Path(sys.executable).with_name("uvicorn")
    command = [str(uvicorn), "bench.bare:app", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--log-level", "warning"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/customers/1", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bare endpoint did not start; see {log_path}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        if process.poll() is None:
            process.kill()


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of these processes and their children, including children that
    have exited (a PostgreSQL backend of a closed connection, counted in its postmaster)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _with_children(pids):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
    return total


def _with_children(pids: Sequence[int]) -> list[int]:
    found = list(pids)
    for pid in pids:
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            found += _with_children([int(c) for c in children])
    return found


def postmaster(url: str) -> list[int]:
    """The PostgreSQL server's main process (its backends are its children)."""
    with psycopg.connect(conninfo(url)) as conn:
        data = conn.execute("SHOW data_directory").fetchone()
    pid_file = Path(str(data[0] if data else "")) / "postmaster.pid"
    return [int(pid_file.read_text().split()[0])]


def serve_pids(port: int) -> list[int]:
    marker = f"--port\x00{port}".encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if marker in (proc / "cmdline").read_bytes():
                    pids.append(int(proc.name))
    return pids


# ---------------------------------------------------------------- the run


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--interactions", type=int, default=None, help="default: 5 per customer")
    parser.add_argument("--duration", type=int, default=20, help="seconds of each wrk run")
    parser.add_argument("--clients", default="8,32,128,512", help="connections of the CRM runs")
    parser.add_argument("--bare-clients", default="8,32", help="connections of the bare endpoint's runs")
    parser.add_argument("--workers", type=int, default=None, help="API workers (default: crm serve's own)")
    parser.add_argument("--sample", type=int, default=5_000, help="customers whose names and phones the mix uses")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: `apt-get install wrk` (make bench installs it)", file=sys.stderr)
        return 1
    exit_on_sigterm()
    use_throwaway_keys()
    rng = random.Random(args.seed)
    total: int = args.customers
    interactions: int = args.interactions if args.interactions is not None else total * 5
    started = time.perf_counter()

    with postgres_server(extra_conf=PG_CONF) as url:
        generator, interactions_report = load_data(url, args, rng)
        runs = measure(url, args, generator, rng)
        with psycopg.connect(conninfo(url)) as conn:
            version = conn.execute("SHOW server_version").fetchone()

    checks = judge(runs)
    print_table(runs, checks)
    results = {
        "benchmark": "load",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": total,
        "interactions": interactions,
        "pending_follow_ups": interactions_report.get("pending_follow_ups"),
        "duration_s": args.duration,
        "mix": MIX,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": version[0] if version else None,
            "api_workers": args.workers or "crm serve default",
            "bare_workers": args.workers or os.cpu_count(),
        },
        "runs": runs,
        "checks": checks,
        "wall_clock_s": round(time.perf_counter() - started, 1),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    print(f"\nresults written to {args.output} (wall clock {results['wall_clock_s']} s)")
    return 0 if checks["no_5xx_but_503"] else 1


def load_data(url: str, args: argparse.Namespace, rng: random.Random) -> tuple[Generator, dict[str, Any]]:
    total: int = args.customers
    interactions: int = args.interactions if args.interactions is not None else total * 5
    upgrade(url)
    pools = Pools.build(args.seed)
    users = create_users(url, pools, rng)
    create_managers(url, users.tenant_id)
    sample_ids = set(rng.sample(range(1, total + 1), min(total, args.sample)))
    generator = Generator(
        pools, seed=args.seed, total=total, tenant_id=users.tenant_id, admin_id=users.admin_id,
        sales_by_region=users.sales_by_region, sample_ids=sample_ids,
    )  # fmt: skip
    print(f"loading {total:,} customers, {total * CONTACTS_PER_CUSTOMER:,} contacts …", flush=True)
    loaded = load(url, generator, total)
    print(f"loading {interactions:,} interactions …", flush=True)
    report = load_interactions(url, interactions, users.tenant_id, users.admin_id)
    catch_up_reminders(url)
    print(f"loaded in {loaded.total_s + report['insert_s'] + report['index_s']:.0f} s", flush=True)
    return generator, report


def measure(
    url: str, args: argparse.Namespace, generator: Generator, rng: random.Random
) -> dict[str, list[dict[str, Any]]]:
    total: int = args.customers
    work = Path(tempfile.mkdtemp(prefix="crm-load-"))
    log_path = args.output.parent / "load-server.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {"crm": [], "bare": []}
    with (
        api_server(url, workers=args.workers or 0, log_path=log_path, sql_echo=False) as base,
        bare_server(url, args.workers or os.cpu_count() or 1, args.output.parent / "load-bare.log") as bare,
    ):
        people = sign_everyone_in(base, url)
        mix_script, bare_script = work / "mix.lua", work / "bare.lua"
        write_mix_script(mix_script, build_mix(url, generator, people, rng))
        write_bare_script(bare_script, rng.sample(range(1, total + 1), min(total, 10_000)))
        crm_pids, pg_pids = serve_pids(int(base.rsplit(":", 1)[1])), postmaster(url)
        # Warm both up (caches, prepared statements) before anything is measured.
        run_wrk(base, mix_script, 8, min(5, args.duration))
        run_wrk(bare, bare_script, 8, min(5, args.duration))
        for count in (int(c) for c in args.bare_clients.split(",") if c):
            print(f"bare endpoint, {count} clients …", flush=True)
            runs["bare"].append(run_wrk(bare, bare_script, count, args.duration))
        for count in (int(c) for c in args.clients.split(",") if c):
            print(f"CRM request mix, {count} clients …", flush=True)
            crm_before, pg_before = cpu_seconds(crm_pids), cpu_seconds(pg_pids)
            result = run_wrk(base, mix_script, count, args.duration)
            answered = max(1, result["requests"])
            result["crm_cpu_ms_per_request"] = round((cpu_seconds(crm_pids) - crm_before) * 1000 / answered, 2)
            result["postgres_cpu_ms_per_request"] = round((cpu_seconds(pg_pids) - pg_before) * 1000 / answered, 2)
            runs["crm"].append(result)
    shutil.rmtree(work, ignore_errors=True)
    return runs


def judge(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    crm = {r["clients"]: r for r in runs["crm"]}
    bare = {r["clients"]: r for r in runs["bare"]}
    checks: dict[str, Any] = {"no_5xx_but_503": all(r["5xx_not_503"] == 0 for r in runs["crm"])}
    for clients in (8, 32):
        if clients in crm:
            checks[f"rps_at_{clients}_ge_{TARGET_RPS:.0f}"] = crm[clients]["rps"] >= TARGET_RPS
            checks[f"p95_at_{clients}_lt_{TARGET_P95_MS:.0f}ms"] = crm[clients]["p95_ms"] < TARGET_P95_MS
            checks[f"errors_at_{clients}"] = crm[clients]["ok_2xx"] == crm[clients]["requests"]
        if clients in crm and clients in bare:
            share = crm[clients]["rps"] / bare[clients]["rps"]
            checks[f"share_of_bare_at_{clients}"] = round(share, 3)
            checks[f"share_of_bare_at_{clients}_ge_{TARGET_SHARE_OF_BARE}"] = share >= TARGET_SHARE_OF_BARE
    if 8 in crm and 32 in crm:
        checks["rps_32_not_below_8"] = crm[32]["rps"] >= crm[8]["rps"]
    return checks


def print_table(runs: dict[str, list[dict[str, Any]]], checks: dict[str, Any]) -> None:
    print()
    print(f"{'target':<7} {'clients':>7} {'req/s':>8} {'p50':>8} {'p95':>8} {'p99':>8}  statuses")
    for name, results in runs.items():
        for r in results:
            cpu = ""
            if "crm_cpu_ms_per_request" in r:
                cpu = f"  cpu/req: crm {r['crm_cpu_ms_per_request']} ms, pg {r['postgres_cpu_ms_per_request']} ms"
            print(
                f"{name:<7} {r['clients']:>7} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
                f"{r['p99_ms']:>8.1f}  {r['statuses']} {r['socket_errors']}{cpu}"
            )
    print()
    for name, value in checks.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    sys.exit(main())
