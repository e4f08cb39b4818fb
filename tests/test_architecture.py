"""Every folder on its floor: the import-linter contracts of pyproject.toml, on every test run.

workflows < overdue < activities | api (independent of each other) < workers, and no import
circle between the modules of a package. A broken contract fails with import-linter's report,
which names each offending import and its line.
"""

from __future__ import annotations

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
