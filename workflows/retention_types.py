"""What the retention purge's workflow and its activity exchange. Pure: no Temporal, no I/O.

Counts per data class only: never an account id, a name or a value that was purged.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# The data classes, in the order the purge takes them (docs/privacy.md#retention).
DATA_CLASSES = (
    "message_bodies",
    "free_texts",
    "contact_details",
    "evidence_files",
    "collection_records",
    "consent_events",  # whole histories, with the collection record (docs/privacy.md#retention)
    "audit_events",
    "selfservice_links",  # expired links, with their sessions and one-time codes
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RetentionPurgeInput(_Model):
    batch_size: int = Field(default=500, ge=1, le=10_000)
    # A run stops after this many batches; the next scheduled run goes on where it stopped.
    max_batches: int = Field(default=200, ge=1, le=10_000)


class PurgeBatchInput(_Model):
    now: datetime  # the workflow's clock: every cutoff is now minus a period
    batch_size: int = Field(ge=1, le=10_000)
    # Contact details: accounts after this id (those skipped for an open workflow stay behind).
    contacts_after: str = ""


class PurgeBatchResult(_Model):
    counts: dict[str, int]  # data class -> rows removed or blanked in this batch
    contacts_after: str
    done: bool  # no class had a full batch: nothing more has expired


class RetentionPurgeResult(_Model):
    counts: dict[str, int]
    batches: int
    done: bool


def add_counts(total: dict[str, int], batch: dict[str, int]) -> dict[str, int]:
    return {name: total.get(name, 0) + batch.get(name, 0) for name in DATA_CLASSES}
