"""Every folder on its floor: the import-linter contracts of pyproject.toml, on every test run.

workflows < overdue < activities | api (independent of each other) < workers, and no import
circle between the modules of a package; and every SQL statement in the store layer. A broken
contract fails with import-linter's report, which names each offending import and its line.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_every_package_is_under_contract() -> None:
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    linted = PYPROJECT["tool"]["importlinter"]["root_packages"]
    assert sorted(linted) == sorted(packages)
    floors = PYPROJECT["tool"]["importlinter"]["contracts"][0]["layers"]
    on_a_floor = {name.strip() for floor in floors for name in floor.split("|")}
    assert on_a_floor == set(packages)


def test_the_import_contracts_are_kept() -> None:
    ran = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert ran.returncode == 0, f"import contracts broken:\n{ran.stdout}{ran.stderr}"


# Where SQL may be written: the store layer, the migrations, and the dev stack's bootstrap
# (it creates the database before any pool can exist, through psql).
SQL_HOMES = ("overdue/store/", "migrations/", "workers/devstack/local_postgres.py")
SQL = re.compile(r"\b(SELECT\s|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|pg_advisory)", re.I)


def _sql_literals(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SQL.search(node.value)
    ]


def test_every_sql_statement_is_in_the_store_layer() -> None:
    packages = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
        if not str(path.relative_to(ROOT)).startswith(SQL_HOMES)
        for line in _sql_literals(path)
    ]
    assert found == [], "SQL outside overdue/store (move it into a store function):\n" + "\n".join(
        found
    )
