"""Package boundaries, read from the source with ast (docs/ARCHITECTURE.md):

- no import cycle between the project's modules;
- dependencies between packages only along the documented one-way arrows;
- another package is used only through its `public.py` (its models included: reports reads ivr's and sms's
  records through the read models `ivr.public` and `sms.public` export, and never writes them).

Every import counts, at the top of a module or inside a function: an import inside a function is as much a
dependency as one at the top (putting it there is how a cycle hides from Python while both modules still need
each other); only imports under `if TYPE_CHECKING:` are left out, since nothing runs them. `sms.bulk` is part
of sms (it shares sms's tables: messages, opt-outs, tickets), so it may use sms's modules; sms's own modules
never import it, so bulk sending can be left out without touching sms.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "web", "guidance", "sms", "ivr", "reports", "notify")
# package → the packages it may import (web reaches the features only through web.FEATURES, by name).
ARROWS = {
    "core": set(),
    "guidance": {"core"},
    "sms": {"core"},
    "ivr": {"core", "guidance", "sms"},
    "reports": {"core", "ivr", "sms"},
    "notify": {"core"},
    "web": {"core"},
}
WRITES = {"create", "insert", "insert_many", "update", "delete", "delete_instance", "save", "replace"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    line: int

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = project_modules()


def import_nodes(tree: ast.AST):
    """Every import statement, except those under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in import_nodes_of(child))
            continue
        yield from import_nodes_of(node)


def import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from import_nodes(node)


def imports_of(module: str, path: Path) -> list[Import]:
    """The project modules `module` imports: `from a import b` is a.b when that is a module, else a."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                       for alias in node.names]
        found += [Import(module, target, node.lineno) for target in targets
                  if target in MODULES and target != module]
    return found


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def package_of(module: str) -> str:
    return module.split(".")[0]


def cycles(graph: dict[str, list[Import]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for edge in graph[module]:
            if edge.target not in index:
                visit(edge.target)
                low[module] = min(low[module], low[edge.target])
            elif edge.target in stack:
                low[module] = min(low[module], index[edge.target])
        if low[module] == index[module]:
            group = []
            while not group or group[-1] != module:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_there_is_no_import_cycle_between_modules():
    assert cycles(GRAPH) == []


def test_the_cycle_check_finds_a_cycle_hidden_in_a_function():
    graph = {"a": [Import("a", "b", 1)], "b": [Import("b", "c", 1)], "c": [Import("c", "a", 9)], "d": []}
    assert cycles(graph) == [["a", "b", "c"]]


def test_packages_depend_on_each_other_only_along_the_arrows():
    wrong = [str(edge) for edges in GRAPH.values() for edge in edges
             if package_of(edge.target) != package_of(edge.source)
             and package_of(edge.target) not in ARROWS[package_of(edge.source)]]
    assert wrong == []


def test_another_package_is_used_only_through_its_public_module():
    wrong = [str(edge) for edges in GRAPH.values() for edge in edges
             if package_of(edge.target) not in (package_of(edge.source), "core")
             and edge.target != f"{package_of(edge.target)}.public"]
    assert wrong == []


def test_sms_does_not_depend_on_its_bulk_sub_package():
    wrong = [str(edge) for edges in GRAPH.values() for edge in edges
             if edge.target.startswith("sms.bulk") and not edge.source.startswith("sms.bulk")]
    assert wrong == []


def test_read_models_of_another_package_are_never_written():
    """reports reads Call, CallEvent, Node and Message through ivr.public and sms.public; owners write."""
    wrong = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), str(path))
        borrowed = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names
                    if node.module and node.module.endswith(".public")
                    and package_of(node.module) != package_of(module) and alias.name[:1].isupper()}
        wrong += [f"{module} line {node.lineno}: {node.value.id}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id in borrowed and node.attr in WRITES]
    assert wrong == []
