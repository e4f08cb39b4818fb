"""The modules that define workflows are imported again in the sandbox for every new workflow
instance. A name taken from a package there (`from workflows import handlers`) is imported
again inside the sandbox with it, passthrough or not, and re-running those modules was about
40% of a new instance's CPU (docs/benchmarks.md, "The sandbox's imports"). Such modules take
what they need by full module name."""

from __future__ import annotations

import ast
from pathlib import Path

WORKFLOWS = Path(__file__).parents[2] / "workflows"


def _defines_a_workflow(tree: ast.Module) -> bool:
    return any(
        isinstance(d, ast.Attribute) and d.attr == "defn"
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for d in node.decorator_list
    )


def test_workflow_modules_import_no_submodule_from_a_package() -> None:
    found = []
    for path in sorted(WORKFLOWS.glob("*.py")):
        tree = ast.parse(path.read_text())
        if not _defines_a_workflow(tree):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("workflows", "activities"):
                names = ", ".join(a.name for a in node.names)
                found.append(f"{path.name}:{node.lineno}: from {node.module} import {names}")
    assert found == [], "use `import workflows.x as x` instead:\n" + "\n".join(found)
