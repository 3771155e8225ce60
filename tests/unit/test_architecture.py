"""The house stays in order: imports only point down the layers, no circles, no imports
hidden inside functions, no services looked up by name, SQL only where it belongs
(``docs/architecture.md`` explains each rule)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import premiere_ecoute

ROOT = Path(premiere_ecoute.__file__).resolve().parent
PACKAGE = "premiere_ecoute"

# Layer of each top-level name under premiere_ecoute; a module may import its own layer or
# lower ones only (with the extra rules below for modules of one layer).
LAYERS = {
    "core": 0,
    "config": 0,
    "telemetry": 0,
    "accounts": 1,
    "discography": 1,
    "sessions": 1,
    "admin": 1,
    "apis": 2,
    "web": 3,
    "jobs": 3,
    "cli": 4,
    "bootstrap": 4,
    "demo": 4,
}
# Domains point down this order too: accounts imports no other domain, sessions may read
# accounts and discography, the admin's read models may read them all.
DOMAIN_ORDER = {"accounts": 0, "discography": 0, "sessions": 1, "admin": 2}
# Sibling packages of one layer that must not know each other.
STRANGERS = {
    ("web", "jobs"),
    ("jobs", "web"),
    ("demo", "cli"),
    ("bootstrap", "cli"),
    ("bootstrap", "demo"),
}
# Where SQL may be written: the repositories and read models of the domains, the kernel,
# the tables (models) and the migrations.
SQL_HOMES = ("repository.py", "queries.py", "/queries/", "models.py")
SQL_NAMES = {"select", "insert", "update", "delete", "text", "tuple_", "and_", "or_", "func"}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for p in sorted(ROOT.rglob("*.py"))
        if "migrations" not in p.relative_to(ROOT).parts
    }


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module ``name`` refers to (a module, or a name inside one)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    stack: list[ast.AST] = []

    def visit(node: ast.AST) -> Iterator[Import]:
        inside = any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in stack)
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            target = _resolve(name) if name.startswith(PACKAGE) else None
            if target and target != module:
                yield Import(module, target, getattr(node, "lineno", 0), inside)
        stack.append(node)
        for child in ast.iter_child_nodes(node):
            yield from visit(child)
        stack.pop()

    yield from visit(tree)


IMPORTS = [imp for module, path in MODULES.items() for imp in _imports(module, path)]


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _wrong_way(imp: Import) -> str | None:
    a, b = _top(imp.importer), _top(imp.imported)
    if a not in LAYERS or b not in LAYERS:
        return f"{a or b} has no layer: add it to LAYERS and to docs/architecture.md"
    if LAYERS[b] > LAYERS[a]:
        return "imports a higher layer"
    if a != b and (a, b) in STRANGERS:
        return "imports a sibling it must not know"
    if a != b and a in DOMAIN_ORDER and b in DOMAIN_ORDER and DOMAIN_ORDER[b] >= DOMAIN_ORDER[a]:
        return "imports a domain that is not below it"
    return None


def test_imports_only_point_down_the_layers() -> None:
    wrong = [
        f"{i.importer}:{i.line} -> {i.imported}: {reason}"
        for i in IMPORTS
        if (reason := _wrong_way(i)) is not None
    ]
    assert wrong == []


def test_the_domains_import_no_adapter_no_web_and_no_composition_root() -> None:
    domains = {"accounts", "discography", "sessions", "admin"}
    outside = {"apis", "web", "jobs", "cli", "bootstrap", "demo"}
    wrong = [
        f"{i.importer} -> {i.imported}"
        for i in IMPORTS
        if _top(i.importer) in domains and _top(i.imported) in outside
    ]
    assert wrong == []


def test_there_is_no_import_circle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        graph[imp.importer].add(imp.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            connect(module)
    assert circles == []


def test_no_import_is_hidden_inside_a_function() -> None:
    hidden = [f"{i.importer}:{i.line} -> {i.imported}" for i in IMPORTS if i.in_function]
    assert hidden == []


def test_no_service_is_looked_up_by_name() -> None:
    found = []
    for module, path in MODULES.items():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "services[" in line or "services.get(" in line or "TYPE_CHECKING" in line:
                found.append(f"{module}:{number}: {line.strip()}")
    assert found == []


def _sql_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("sqlalchemy")
        ):
            used |= {a.name for a in node.names if a.name in SQL_NAMES}
    return used


def test_sql_is_written_only_in_repositories_read_models_and_the_kernel() -> None:
    misplaced = []
    for module, path in MODULES.items():
        where = path.as_posix()
        if _top(module) == "core" or any(home in where for home in SQL_HOMES):
            continue
        if names := _sql_names(path):
            misplaced.append(f"{module}: {sorted(names)}")
    assert misplaced == []


def test_the_rules_see_the_whole_package() -> None:
    """A guard for the guard: the checks above read real modules and real imports."""
    assert len(MODULES) > 100 and len(IMPORTS) > 400
    assert any(i.importer.endswith("bootstrap") and _top(i.imported) == "web" for i in IMPORTS)
    wrong_way = Import("premiere_ecoute.sessions.ingest", "premiere_ecoute.web.live", 1, False)
    assert _wrong_way(wrong_way) == "imports a higher layer"
    sideways = Import(
        "premiere_ecoute.accounts.handlers", "premiere_ecoute.sessions.models", 1, False
    )
    assert _wrong_way(sideways) == "imports a domain that is not below it"
