"""The layout's promises, checked on the source: imports point one way, down the pipeline, with no cycles.

commands -> jobs / selection / probe / fetch / models -> features -> dataio / network.  Imports inside
functions count too (a lazy import is still a dependency).
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("ccimg", "jobs", "models", "features", "dataio", "network")
# what each package may import from the project, besides itself
ALLOWED = {
    "network": set(),
    "dataio": {"network"},
    "features": {"dataio", "network"},
    "models": {"features", "dataio", "network"},
    "jobs": {"models", "features", "dataio", "network"},
    "ccimg": {"jobs", "models", "features", "dataio", "network"},
}


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            out[".".join(p for p in parts if p != "__init__") if parts[-1] == "__init__" else ".".join(parts)] = path
    return out


def imports_of(path: Path, name: str) -> set[str]:
    """Project modules a file imports, anywhere in it."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] in PACKAGES + ("tests", "benchmarks")}


def graph() -> dict[str, set[str]]:
    mods = modules()
    edges = {}
    for name, path in mods.items():
        edges[name] = {m for m in imports_of(path, name) if m in mods and m != name} | \
            {m for m in imports_of(path, name) if m.split(".")[0] in ("tests", "benchmarks")}
    return edges


def test_imports_point_down_the_pipeline_and_never_into_tests():
    wrong = []
    for module, targets in graph().items():
        top = module.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if other in ("tests", "benchmarks"):
                wrong.append(f"{module} imports {target}")
            elif other != top and other not in ALLOWED[top]:
                wrong.append(f"{module} imports {target}")
            elif top == "ccimg" and not module.startswith("ccimg.commands") and module != "ccimg.cli" \
                    and target.startswith(("ccimg.commands", "ccimg.cli")):
                wrong.append(f"{module} (a library) imports the command line: {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_cycles_between_files():
    edges = graph()
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state[nxt] == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif state[nxt] == 0:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if state[node] == 0:
            visit(node, [])
    assert not cycles, "\n".join(cycles)


def test_score_probe_and_fetch_do_not_import_mrjob():
    """The commands a crawler runs next to its fetcher load no MapReduce engine."""
    code = ("import sys, ccimg.commands.score, ccimg.commands.probe, ccimg.commands.fetch; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mrjob', 'pyspark')))")
    got = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "[]"
