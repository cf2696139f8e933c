"""The layering of docs/ARCHITECTURE.md, checked on the code itself: no call
circles between the C files (from the symbols each object file defines and
uses), the format layer calls no backend, and no import circles in pybnn."""
import ast
import os
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PKG = ROOT / "pybnn"


def find_cycle(graph):
    """One cycle of a {node: set(nodes)} graph as a list, or None."""
    state, stack = {}, []

    def visit(u):
        state[u] = "open"
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == "open":
                return stack[stack.index(v):] + [v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        stack.pop()
        state[u] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_find_cycle_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.fixture(scope="module")
def object_calls(tmp_path_factory):
    """{object file relative to src/: object files whose symbols it uses}."""
    if not (shutil.which("make") and shutil.which("nm") and shutil.which("cc")):
        pytest.skip("needs make, cc and nm to build and inspect the C library")
    build = tmp_path_factory.mktemp("layout")
    subprocess.run(["make", "-s", "-C", str(SRC), f"BUILD={build}", "-j2", "lib"], check=True,
                   capture_output=True)
    objects = sorted((build / "obj").rglob("*.o"))
    defined, used = {}, {}
    for obj in objects:
        name = str(obj.relative_to(build / "obj"))
        out = subprocess.run(["nm", str(obj)], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDRB":
                defined[parts[2]] = name
            elif len(parts) == 2 and parts[0] == "U":
                used.setdefault(name, set()).add(parts[1])
    return {name: {defined[s] for s in used.get(name, ()) if s in defined} - {name}
            for name in (str(o.relative_to(build / "obj")) for o in objects)}


def test_no_call_circles_between_c_files(object_calls):
    assert find_cycle(object_calls) is None


@pytest.mark.parametrize("folder, allowed", [
    ("common/", ("common/",)),
    ("format/", ("common/", "format/")),
    ("cpu/kernels/", ("common/", "cpu/kernels/", "cpu/dispatch", "cpu/cpu_features")),
])
def test_lower_layers_call_nothing_above_them(object_calls, folder, allowed):
    for name, calls in object_calls.items():
        if name.startswith(folder):
            outside = sorted(c for c in calls if not c.startswith(allowed))
            assert not outside, f"{name} calls into {outside}"


def python_imports():
    """{module: set(modules of pybnn it imports)}, function-level imports included."""
    modules = {}
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_pkg)
    modules.update({".".join(p.relative_to(ROOT).with_suffix("").parts): (p, False)
                    for p in PKG.rglob("*.pyx")})
    graph = {}
    for name, (path, is_pkg) in modules.items():
        if path.suffix == ".pyx":
            continue
        package = name if is_pkg else name.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                mod = ".".join(p for p in (base if node.level else "", node.module or "") if p)
                # `from package import submodule` depends on the submodule only.
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod
                           for a in node.names]
            for t in targets:
                if t in modules and t != name:
                    deps.add(t)
        graph[name] = deps
    for path in PKG.rglob("*.pyx"):  # Cython: its absolute imports of pybnn, by line
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        graph[name] = set(re.findall(r"^(?:from|import) (pybnn[\w.]*)", path.read_text(), re.M))
    return graph


def test_no_import_circles_in_pybnn():
    assert find_cycle(python_imports()) is None


def test_format_layer_needs_no_compiled_core():
    graph = python_imports()
    for name, deps in graph.items():
        if name == "pybnn.format" or name.startswith("pybnn.format."):
            assert "pybnn._core" not in deps, name
            assert not any(d.startswith("pybnn.backends") for d in deps), name


def test_source_tree_is_where_the_tests_say():
    assert (SRC / "bnn.h").is_file() and (PKG / "__init__.py").is_file()
    assert os.path.isdir(SRC / "format") and os.path.isdir(SRC / "cpu" / "ops")
