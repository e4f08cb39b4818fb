"""The modules that define workflows are imported again in the sandbox for every new workflow
instance. A name taken from a package there (`from workflows import handlers`) is imported
again inside the sandbox with it, passthrough or not, and re-running those modules was about
40% of a new instance's CPU (docs/benchmarks.md, "The sandbox's imports"). Such modules take
what they need by full module name. And the account workflow's own module stays a declaration:
its code objects are loaded again per instance and stay in memory with each cached workflow
(48 KB when the run loop lived there; docs/benchmarks.md, "Memory")."""

from __future__ import annotations

import ast
import marshal
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


# What the sandbox loads again per instance of the account workflow, as compiled code.
DECLARATION_BYTES = 4_000


def test_the_account_workflow_module_is_a_declaration() -> None:
    path = WORKFLOWS / "overdue_account.py"
    code = compile(path.read_text(), str(path), "exec")
    size = len(marshal.dumps(code))
    assert size < DECLARATION_BYTES, (
        f"{path.name} compiles to {size} bytes, loaded again for every workflow instance: move "
        "the code to a module it imports passed through (workflows/account_process.py)"
    )
