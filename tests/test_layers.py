"""The floors of the house (STYLE.md): theory/ and numerics/ compute and import neither each other nor
validation/ or figures/; no two modules import each other, directly or through others. Checked on the
source (every import statement, including those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "validation", "figures", "toolkit", "benchmarks")
FORBIDDEN = {"theory": ("numerics", "validation", "figures"),
             "numerics": ("theory", "validation", "figures"),
             "toolkit": ("theory", "numerics", "validation", "figures")}


def _modules():
    for pkg in PACKAGES:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), f


def _imports(name: str, path: Path) -> set[str]:
    """Fully qualified module names imported anywhere in the file (relative imports resolved)."""
    pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg[:len(pkg) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def _graph():
    mods = dict(_modules())
    return {m: {i for i in _imports(m, p) if i in mods and i != m} for m, p in mods.items()}


def test_lower_floors_do_not_import_upper_ones():
    bad = [(m, i) for m, deps in _graph().items() for i in deps
           if i.split(".")[0] in FORBIDDEN.get(m.split(".")[0], ())]
    assert not bad, bad


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d, stack + [d])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    # a package (its __init__) and its own submodules importing each other is not a layering cycle
    cycles = [c for c in cycles
              if not any(all(x == p or x.startswith(p + ".") for x in c) for p in c)]
    assert not cycles, cycles
