"""The house stays in order: no import cycles between the kit's modules and a small top.

Imports are read from the source (function-level ones too, since they are cycles of
ideas all the same), except those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hoophooks_dk

PACKAGE = Path(hoophooks_dk.__file__).parent
#: Go's text/template has exec and template import each other; the port keeps Go's files.
ALLOWED = {frozenset({"hoophooks_dk.gotemplate.exec", "hoophooks_dk.gotemplate.template"})}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped = set()
    for node in ast.walk(tree):
        test = getattr(node, "test", None)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(test):
            skipped |= {id(inner) for part in node.body for inner in ast.walk(part)}
    return skipped


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The kit's modules that ``path`` imports (the closest existing module of each name)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = type_checking_nodes(tree)
    targets = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            targets += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            targets += [f"{base}.{alias.name}" for alias in node.names] + [base]
    found = set()
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        # a module importing its own package's face is not a cycle of ideas
        if target and target != name and not name.startswith(target + "."):
            found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    files = [p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts]
    modules = {module_name(p) for p in files}
    return {module_name(p): imports_of(p, modules) for p in files}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                top = stack.pop()
                component.add(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules():
    graph = import_graph()
    assert "hoophooks_dk.wiring" in graph and graph["hoophooks_dk.wiring"]  # it reads
    assert [sorted(c) for c in cycles(graph) if frozenset(c) not in ALLOWED] == []


def test_a_cycle_is_found_when_there_is_one():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [{"a", "b", "c"}]


def test_at_most_sixteen_modules_at_the_top():
    top = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(top) <= 16, sorted(top)


def test_every_face_is_built_through_the_one_wiring():
    """The CLI, the plugin, check, demo: none makes a Capture or an Emulator itself."""
    for face in ("cli", "testing", "check", "scaffold"):
        for path in (PACKAGE / face).glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            made = {
                node.func.id
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            }
            assert not made & {"Capture", "Emulator", "SubprocessRunner"}, path
