"""The ops commands' error: a message for the person at the terminal, and an exit code."""

from __future__ import annotations


class OpsError(Exception):
    """A refused or failed ops command: `str()` says what to do; `exit_code` 2 is a usage or
    input error, 1 a failure on the way (Temporal or Postgres unreachable, ...)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
