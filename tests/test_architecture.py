"""The package's shape: one-way layers, no import cycles, light imports of prediction.

Every ``import`` in every module counts, including those inside functions and under
``TYPE_CHECKING``: a cycle hidden in a function is still a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import smoothseg

SRC = Path(smoothseg.__file__).parent

#: Lowest first. A unit (top-level module or package of ``smoothseg``) may import only units of
#: strictly lower layers (and itself).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("version",),
    ("typecheck", "registry", "config_file", "measure", "configs"),
    ("io",),
    ("synthesis",),
    ("datasets",),
    ("clinical",),
    ("phantom",),
    ("preprocess",),
    ("models",),
    ("bundle",),
    ("training",),
    ("inference",),
    ("postprocess",),
    ("predict",),
    ("evaluation",),
    ("response",),
    ("stress",),
    ("experiment",),
    ("web",),
    ("cli",),
    ("__main__", "__init__"),
)
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _module_name(path: Path) -> str:
    parts = ("smoothseg", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every smoothseg module ``path`` imports (resolved to the modules that hold the names)."""
    own = _module_name(path)
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "smoothseg":
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                out.add(candidate if candidate in modules else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{own}: relative import; use absolute smoothseg imports")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "smoothseg")
    out.discard(own)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) for name, path in modules.items()}


def _known_graph() -> dict[str, set[str]]:
    """The import graph restricted to modules that exist (for layers and cycles)."""
    modules = _modules()
    return {name: targets & set(modules) for name, targets in _graph().items()}


def test_every_import_names_an_existing_module() -> None:
    modules = _modules()
    missing = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if target not in modules
    )
    assert not missing, "imports of modules that do not exist:\n" + "\n".join(missing)


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m in _modules()}
    missing = sorted(units - set(RANK))
    assert not missing, f"add these to LAYERS in tests/test_architecture.py: {missing}"


def test_no_module_imports_a_later_layer() -> None:
    upward = []
    for module, targets in _known_graph().items():
        for target in targets:
            src, dst = _unit(module), _unit(target)
            if src != dst and RANK.get(dst, -1) >= RANK.get(src, -1):
                upward.append(f"{module} -> {target}")
    assert not upward, "imports against the layer order:\n" + "\n".join(sorted(upward))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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
    return found


def test_no_import_cycles() -> None:
    cycles = _cycles(_known_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", ["smoothseg.predict", "smoothseg.inference"])
def test_prediction_loads_no_training_module(package: str) -> None:
    code = (
        f"import sys, {package}\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('smoothseg.training'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing {package} loaded {out}"


def test_import_smoothseg_is_light() -> None:
    probe = "print('torch' in sys.modules, 'smoothseg.predict' in sys.modules)"
    code = f"import sys, smoothseg\n{probe}"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]
