"""The module map keeps its shape: modules stay short, imports form no cycle (lazy
imports inside functions included, ``if TYPE_CHECKING:`` imports not), each layer
imports only the layers below it (docs/architecture.md), the table codec knows no
dumper, no dumper imports another, and the database knows no dumper by name."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "zdb"
#: the longest a module may be (lines)
MAX_LINES = 800


def module_files() -> dict[str, Path]:
    """Every module of zdb by its dotted name."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _within(name: str, modules: dict[str, Path]) -> str | None:
    """The zdb module ``name`` is, or lies in (an attribute of a module), or None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """The zdb modules each zdb module imports, by name. ``from package import name``
    imports the submodule ``package.name`` when there is one, else the package."""
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                found = _within(target, modules)
                if found is not None and found != name:
                    edges.add(found)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_module_is_longer_than_the_limit():
    too_long = {}
    for path in module_files().values():
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text().splitlines())
        if lines > MAX_LINES:
            too_long[rel] = lines
    assert too_long == {}, f"split these modules (at most {MAX_LINES} lines each)"


def test_zdb_modules_import_each_other_without_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_lazy_cycles_and_ignores_type_checking_imports():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .x import X\n"
        "def f():\n    from .y import Y\n"
    )
    assert [n.module for n in _imports(tree)] == ["typing", "y"]


def test_the_table_codec_knows_no_dumper():
    knows = {
        (name, target)
        for name, targets in import_graph().items()
        if name == "zdb.tables" or name.startswith("zdb.tables.")
        for target in targets
        if target.startswith("zdb.IO") or target in ("zdb.dumper", "zdb.dumper_registry")
    }
    assert knows == set()


def test_no_dumper_imports_another_dumper():
    prefix = "zdb.IO.LoaderDumper."
    imports = {
        (name, target)
        for name, targets in import_graph().items()
        if name.startswith(prefix)
        for target in targets
        if target.startswith(prefix)
    }
    assert imports == set()


#: the layers of zdb (docs/architecture.md): each component may import only those
#: listed for it; components not listed (importers, the package faces, the
#: test suites, the command line) sit on top and may import anything
COMPONENTS = {
    "zdb.exceptions": set(),
    "zdb.storage": {"zdb.exceptions"},
    "zdb.store": {"zdb.storage"},
    "zdb.object_store": {"zdb.storage"},
    "zdb.format": {"zdb.exceptions"},
    "zdb.keys": {"zdb.exceptions"},
    "zdb.values": set(),
    "zdb.provenance": set(),
    "zdb.progress_bars": set(),
    "zdb.zarr_util": set(),
    "zdb.locks": {"zdb.exceptions"},
    "zdb.distributed_lock": {"zdb.exceptions", "zdb.locks"},
    "zdb.simrun": {"zdb.exceptions"},
    "zdb.shared_memory": {"zdb.exceptions"},
    "zdb.zarr_shards": set(),
    "zdb.zarr_codec": {"zdb.storage", "zdb.zarr_shards"},
    "zdb.zarr_store": {"zdb.zarr_codec"},
    "zdb.key_index": {"zdb.storage", "zdb.format", "zdb.keys"},
    "zdb.metadata": {"zdb.storage", "zdb.format", "zdb.provenance"},
    "zdb.dumper": {"zdb.exceptions", "zdb.format", "zdb.storage", "zdb.zarr_store"},
    "zdb.dumper_registry": {"zdb.dumper", "zdb.exceptions"},
    "zdb.tables": {
        "zdb.exceptions",
        "zdb.format",
        "zdb.progress_bars",
        "zdb.storage",
        "zdb.values",
        "zdb.zarr_codec",
        "zdb.zarr_shards",
        "zdb.zarr_store",
        "zdb.zarr_util",
    },
    # a reduced model is fitted with zdb.analyze's LDA (imported where it fits)
    "zdb.objects": {"zdb.analyze", "zdb.exceptions", "zdb.values"},
    "zdb.IO.LoaderDumper": {
        "zdb.dumper",
        "zdb.dumper_registry",
        "zdb.exceptions",
        "zdb.format",
        "zdb.objects",
        "zdb.progress_bars",
        "zdb.shared_memory",
        "zdb.storage",
        "zdb.tables",
        "zdb.values",
        "zdb.zarr_codec",
        "zdb.zarr_store",
        "zdb.zarr_util",
    },
    "zdb.commit": {
        "zdb.dumper",
        "zdb.exceptions",
        "zdb.format",
        "zdb.key_index",
        "zdb.keys",
        "zdb.metadata",
        "zdb.progress_bars",
        "zdb.storage",
    },
    "zdb.utils": {"zdb.database", "zdb.exceptions"},
    # analyses read zdb's lazy tables in row ranges (zdb.tables.row_ranges)
    "zdb.analyze": {"zdb.exceptions", "zdb.tables"},
    "zdb.foreign": {"zdb.exceptions", "zdb.format", "zdb.storage", "zdb.zarr_util"},
    "zdb.legacy": {
        "zdb.IO.LoaderDumper",
        "zdb.exceptions",
        "zdb.format",
        "zdb.objects",
        "zdb.storage",
        "zdb.tables",
    },
    "zdb.tree": {"zdb.commit", "zdb.exceptions", "zdb.format"},
    "zdb.display": {"zdb.format", "zdb.tree"},
    "zdb.registry": {"zdb.exceptions", "zdb.format"},
    "zdb.isf_methods": {
        "zdb.commit",
        "zdb.dumper_registry",
        "zdb.exceptions",
        "zdb.format",
        "zdb.keys",
        "zdb.registry",
    },
    "zdb.leftovers": {
        "zdb.commit",
        "zdb.exceptions",
        "zdb.format",
        "zdb.progress_bars",
        "zdb.storage",
    },
    "zdb.provenance_diff": set(),
    "zdb.database": {
        "zdb.commit",
        "zdb.dumper",
        "zdb.dumper_registry",
        "zdb.exceptions",
        "zdb.foreign",
        "zdb.format",
        "zdb.isf_methods",
        "zdb.key_index",
        "zdb.keys",
        "zdb.legacy",
        "zdb.metadata",
        "zdb.registry",
        "zdb.storage",
        "zdb.tree",
        "zdb.display",
    },
    "zdb.describe": {"zdb.commit", "zdb.database", "zdb.format", "zdb.keys", "zdb.zarr_shards"},
    "zdb.check": {
        "zdb.commit",
        "zdb.database",
        "zdb.dumper_registry",
        "zdb.exceptions",
        "zdb.format",
        "zdb.keys",
        "zdb.leftovers",
        "zdb.metadata",
        "zdb.progress_bars",
    },
}


#: single imports across the layers, each with its reason
ALLOWED = {
    # a stored reduced model's db_list names databases, opened through the registry
    # when the model is read (lazily, in one function)
    ("zdb.IO.LoaderDumper.reduced_lda_model", "zdb.data_base_register"),
}


def component(module: str) -> str | None:
    """The component of COMPONENTS that ``module`` belongs to, or None (top layer)."""
    found = [c for c in COMPONENTS if module == c or module.startswith(f"{c}.")]
    return max(found, key=len) if found else None


def test_each_layer_imports_only_the_layers_below_it():
    wrong = set()
    for name, targets in import_graph().items():
        own = component(name)
        if own is None:
            continue
        for target in targets:
            other = component(target)
            if other != own and other not in COMPONENTS[own] and (name, target) not in ALLOWED:
                wrong.add((name, target))
    assert wrong == set(), "update docs/architecture.md if a layer must change"


def test_only_the_entry_point_imports_the_command_line():
    importers = {
        name
        for name, targets in import_graph().items()
        if not name.startswith("zdb.cli") and any(t.startswith("zdb.cli") for t in targets)
    }
    assert importers == {"zdb.__main__"}


def test_the_database_knows_no_dumper_by_name():
    from zdb.dumper_registry import all_dumpers

    names = set(all_dumpers())
    names |= {a for d in all_dumpers().values() for a in d.aliases}
    for module in ("database.py", "commit.py"):
        tree = ast.parse((PACKAGE / module).read_text())
        literals = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        assert literals & names == set(), module
