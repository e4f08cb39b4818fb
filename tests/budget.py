"""How many examples a property test draws: all of them in `make test`, fewer in the inner
loop (`make test-fast` sets OVERDUE_TEST_FAST=1), which must stay under a minute."""

from __future__ import annotations

import os


def examples(full: int, fast: int) -> int:
    return fast if os.environ.get("OVERDUE_TEST_FAST") == "1" else full
