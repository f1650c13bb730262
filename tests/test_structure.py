"""The packages of crm/ depend on each other in one direction: no new import cycle.

Every import counts, also one inside a function: a cycle hidden in a function is still two
packages that cannot be understood, tested or changed apart.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "crm"

# Cycles still to take apart: each sits inside one of these groups. The test fails when a
# group grows or a new one appears; shrink the list as the groups come apart.
KNOWN_GROUPS = (
    # Sign-in builds the actor under its tenant's policy and records to the audit trail, while the
    # tenant settings and audit trail endpoints need sign-in.
    frozenset({"audit", "auth", "tenants"}),
)


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "crm" or len(parts) < 2:
        return None
    return parts[1] if (SRC / parts[1]).is_dir() or (SRC / f"{parts[1]}.py").is_file() else None


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        source = path.relative_to(SRC).parts[0].removesuffix(".py")
        if source == "migrations":  # frozen history: a migration imports what it imported then
            continue
        for module in _imports(path):
            target = _package(module)
            if target is not None and target != source:
                graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one package (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]


def test_no_import_cycle_between_packages_beyond_the_known_ones() -> None:
    new = [group for group in cycles(package_graph()) if not any(group <= known for known in KNOWN_GROUPS)]
    assert not new, f"new import cycle(s) between packages: {[sorted(g) for g in new]}"


def test_the_known_cycles_are_still_cycles() -> None:
    """A group taken apart leaves the list, so that it cannot come back unnoticed."""
    groups = cycles(package_graph())
    for known in KNOWN_GROUPS:
        assert any(group == known for group in groups), f"{sorted(known)} is no longer a cycle: remove it"


def test_kit_and_models_import_no_domain_package() -> None:
    graph = package_graph()
    assert graph["kit"] <= {"config"}, graph["kit"]
    assert graph["models"] <= {"kit", "config"}, graph["models"]


def test_other_domains_reach_customers_through_their_public_scope_module() -> None:
    """Who may see which customer is decided in crm.customers.scope, not in each domain."""
    reaching = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.relative_to(SRC).parts[0] not in {"customers", "migrations"}
        and "crm.customers.repository" in set(_imports(path))
    )
    assert not reaching, reaching


# ---------------------------------------------------------------- every query in a repository

QUERY_BUILDERS = frozenset({"select", "update", "delete", "insert", "union", "union_all", "text", "exists"})
RUNNERS = frozenset({"execute", "scalars", "scalar"})
# Queries may be built and run in repositories, kit/ and migrations (models only declare tables).
# These files still hold the number of queries shown, to be moved into their domain's repository:
# a file may not gain one, and one that loses some must lower its number here (and leave the
# list at zero).
QUERIES_TO_MOVE: dict[str, int] = {
    "analytics/behavior.py": 16,
    "analytics/churn.py": 2,
    "analytics/grading.py": 12,
    "analytics/prediction.py": 7,
    "analytics/retention.py": 9,
    "analytics/value.py": 18,
    "churn/service.py": 22,
    "cli.py": 4,
    "customers/export.py": 1,
    "customers/service.py": 6,
    "interactions/attachments.py": 4,
    "interactions/notifications.py": 9,
    "interactions/service.py": 17,
    "interactions/timeline.py": 12,
    "jobs.py": 3,
    "orders/importer.py": 2,
    "orders/service.py": 13,
    "privacy/service.py": 27,
    "saved_views/service.py": 12,
    "service_desk/assignment.py": 10,
    "service_desk/service.py": 18,
    "service_desk/statistics.py": 6,
    "service_desk/surveys.py": 6,
}


def _query_calls(path: Path) -> int:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    builders = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name in QUERY_BUILDERS
    }
    count = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id in builders:
            count += 1
        elif isinstance(node.func, ast.Attribute) and node.func.attr in RUNNERS:
            owner = ast.unparse(node.func.value)
            count += "session" in owner or "connection" in owner or owner == "conn"
    return count


def query_counts() -> dict[str, int]:
    counts = {}
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        if relative.parts[0] in {"kit", "migrations", "models"} or path.name == "repository.py":
            continue
        if found := _query_calls(path):
            counts[str(relative)] = found
    return counts


def test_no_new_query_outside_a_repository() -> None:
    counts = query_counts()
    grown = {f: (n, QUERIES_TO_MOVE.get(f, 0)) for f, n in counts.items() if n > QUERIES_TO_MOVE.get(f, 0)}
    assert not grown, f"queries outside a repository (found, allowed): {grown}"


def test_the_queries_still_to_move_are_counted_right() -> None:
    counts = query_counts()
    shrunk = {f: (counts.get(f, 0), n) for f, n in QUERIES_TO_MOVE.items() if counts.get(f, 0) < n}
    assert not shrunk, f"fewer queries left than listed (found, listed): lower QUERIES_TO_MOVE: {shrunk}"
