"""Workflow code is passed through the sandbox (workers/sandbox.py), so the sandbox no longer
stops it reading the clock or the network; workflows/ruff.toml does, before it is merged. These
tests plant each way out in a file under workflows/ (given to ruff on stdin: nothing is written)
and check that ruff refuses it there and nowhere else; and they check the builtins that ruff's
banned-api cannot name."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.servers import venv_binary

ROOT = Path(__file__).parents[2]
RUFF_CHECK = (venv_binary("ruff"), "check", "--select", "TID251")

# Each line is workflow code that would decide differently on replay, or do I/O.
WAYS_OUT = {
    "clock": "from datetime import datetime\n\nNOW = datetime.now()\n",
    "clock, module form": "import datetime\n\nTODAY = datetime.date.today()\n",
    "monotonic clock": "import time\n\nT = time.monotonic()\n",
    "randomness": "import random\n\nR = random.random()\n",
    "ids": "import uuid\n\nID = uuid.uuid4()\n",
    "environment": "import os\n\nE = os.environ\n",
    "threads": "import threading\n\nL = threading.Lock()\n",
    "database": "import asyncpg\n\nP = asyncpg.create_pool\n",
    "network": "import httpx\n\nC = httpx.AsyncClient\n",
    "logging that repeats on replay": "import logging\n\nLOG = logging.getLogger(__name__)\n",
}


def _ruff(path: str, source: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUFF_CHECK, "--output-format", "concise", "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.parametrize("way_out", sorted(WAYS_OUT))
def test_workflow_code_cannot_take_a_way_out(way_out: str) -> None:
    refused = _ruff("workflows/planted.py", WAYS_OUT[way_out])
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "TID251" in refused.stdout and "workflow" in refused.stdout
    # Activities and the store may: the bans are for workflow code only.
    allowed = _ruff("activities/planted.py", WAYS_OUT[way_out])
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_the_workflow_code_keeps_to_the_bans() -> None:
    checked = subprocess.run(
        [*RUFF_CHECK, "workflows"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


# Builtins that read or write outside the workflow; ruff's banned-api names modules only.
BUILTIN_IO = {"open", "input", "print", "breakpoint", "exec", "eval", "__import__"}


def builtin_io_calls(source: str) -> list[str]:
    return [
        f"{node.lineno}: {node.func.id}()"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in BUILTIN_IO
    ]


def test_builtin_io_is_found() -> None:
    planted = "def f() -> None:\n    print(open('x').read())\n"
    assert builtin_io_calls(planted) == ["2: print()", "2: open()"]


def test_workflow_code_calls_no_builtin_io() -> None:
    found = {
        path.name: calls
        for path in sorted((ROOT / "workflows").glob("*.py"))
        if (calls := builtin_io_calls(path.read_text()))
    }
    assert found == {}
