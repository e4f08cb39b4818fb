"""What the self-service code's update takes and answers (`workflows.selfservice_code`), and
its entry in `workflows.handlers`' table: it changes nothing in the account's record."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows.types import AccountRecord


class CodeRequested(BaseModel):
    """A borrower asked for a code on their link's page: the form's idempotency key only."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    request_key: str = Field(pattern=r"^[0-9a-f]{32}$")


class CodeSent(BaseModel):
    """What became of the request: `sent` (or sent before), `refused` (opted out, withdrawn
    consent, a number that takes no SMS: the page says to call), `withheld` (the pre-send
    check found the account changed: the page says to call)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    outcome: Literal["sent", "refused", "withheld"]


def validate_code_request(record: AccountRecord, request: CodeRequested, now: datetime) -> None:
    """Any running account may be asked for a code: the model checks the key."""


def apply_code_request(record: AccountRecord, request: CodeRequested, now: datetime) -> None:
    """Nothing: the code is no collection contact (its SMS is in the ledger, not the record)."""
