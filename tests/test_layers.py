"""The packages stack in layers, read from the source (every import, a function's own too):
pm_admin/ knows no domain; models/ is the domain alone; reports/ and demo/ read and
drive it; views/ shows all of them. And no two modules of models/ need each other."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# package -> the packages of ours it may import
LAYERS = {
    "pm_admin": set(),
    "models": {"pm_admin"},
    "reports": {"pm_admin", "models"},
    "demo": {"pm_admin", "models"},
    "views": {"pm_admin", "models", "reports", "demo"},
}


def imported_modules(path: Path, package: str) -> set[str]:
    """The dotted modules ``path`` imports, relative imports resolved from ``package``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module
            found.add(module)
            # ``from . import x`` / ``from models import x``: x may be a module of that package
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def modules_of(package: str) -> dict[str, Path]:
    return {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
            for path in sorted((ROOT / package).rglob("*.py"))}


def test_each_package_imports_only_the_layers_below_it():
    wrong = []
    for package, allowed in LAYERS.items():
        for name, path in modules_of(package).items():
            home = name if path.name == "__init__.py" else name.rpartition(".")[0]
            for module in imported_modules(path, home):
                top = module.split(".")[0]
                if top in LAYERS and top != package and top not in allowed:
                    wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert wrong == []


def import_graph() -> dict[str, set[str]]:
    """models/ module -> the models/ modules it imports."""
    modules = modules_of("models")
    return {name: {m for m in imported_modules(path, "models") if m in modules and m not in (name, "models")}
            for name, path in modules.items() if name != "models"}


# The bill run and one-off bills settle from the advance balance, which lives with the payments
# (models.payment), while a payment raises late-fee bills: one cycle, known, not to be copied.
KNOWN_CYCLES = [{"models.billing", "models.payment"}]


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_models_module_imports_one_that_imports_it_back():
    assert [group for group in cycles(import_graph()) if group not in KNOWN_CYCLES] == []


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    assert cycles({"a": {"b"}, "b": set()}) == []
    meter = tmp_path / "meter.py"
    meter.write_text("from .billing import MeterKind\n\n\ndef usage():\n    from models import payment\n")
    assert imported_modules(meter, "models") == {"models.billing", "models.billing.MeterKind", "models",
                                                 "models.payment"}
