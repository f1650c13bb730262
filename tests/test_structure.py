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
