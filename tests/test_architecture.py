"""The shape of the code: no import cycle, every module in a layer, handlers that leave the
transaction to the unit of work.

The layer order itself is checked by import-linter (`lint-imports`, run by scripts/test) from the
contract in pyproject.toml; these tests make sure that contract covers every module and that no
cycle hides in an import deferred into a function or put under `TYPE_CHECKING`.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dpa_service"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "versions" in path.parts:  # Alembic revisions are not imported by the service
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """Every module of ours that `module` imports, wherever the import statement stands
    (top level, inside a function, under `if TYPE_CHECKING:`)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name in known and name != module:
                yield name, node.lineno


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: {t for t, _ in _imported(m, p, set(modules))} for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_counting_deferred_and_type_checking_imports() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_check_sees_an_import_hidden_in_a_function() -> None:
    graph = _graph()
    assert "dpa_service.app" in graph["dpa_service.cli"]  # cli imports app inside a command
    graph["dpa_service.config"] = {*graph["dpa_service.config"], "dpa_service.cli"}
    assert any("dpa_service.cli" in cycle for cycle in _cycles(graph))


def _contract_layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return [[m.strip() for m in layer.replace("|", ":").split(":")] for layer in contract["layers"]]


def test_every_module_has_its_place_in_the_layer_contract() -> None:
    placed = [m for layer in _contract_layers() for m in layer]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    packages = {m for m, p in _modules().items() if p.name == "__init__.py"}
    missing = sorted(set(_modules()) - packages - set(placed))
    assert missing == [], f"add these modules to a layer in pyproject.toml: {missing}"
    assert sorted(set(placed) - set(_modules())) == []


HTTP_LAYER = 1  # composition, http, workflows, …: see pyproject.toml


@pytest.mark.parametrize("module", _contract_layers()[HTTP_LAYER])
def test_handlers_neither_commit_nor_wake_the_jobs(module: str) -> None:
    """The unit of work commits, rolls back and wakes the job engine; routes and pages don't."""
    if module == "dpa_service.http.unit_of_work":
        return
    tree = ast.parse(_modules()[module].read_text())
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "kick", "rollback")
    ]
    assert calls == []
