"""How long each class of data is kept, and the floors the law sets (docs/privacy.md#retention).

A period is whole days. Collection records and the audit trail are the collection record the
CN commercial bank credit-card measures (arts. 67-69) require be kept at least 2 years: a
setting below that floor stops every process at start, naming the variable and the floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# CN commercial bank credit-card measures, arts. 67-69: collection records kept >= 2 years.
COLLECTION_RECORD_FLOOR_DAYS = 730

# Settings field -> (the floor in days, why); fields not listed have no legal floor.
FLOORS: dict[str, tuple[int, str]] = {
    "retention_collection_records_days": (
        COLLECTION_RECORD_FLOOR_DAYS,
        "CN credit-card measures arts. 67-69 keep collection records at least 2 years",
    ),
    "retention_audit_events_days": (
        COLLECTION_RECORD_FLOOR_DAYS,
        "the audit trail is the collection record (CN credit-card measures arts. 67-69)",
    ),
}


@dataclass(frozen=True)
class RetentionPeriods:
    """The periods in days, as the purge activity takes them (a plain value, not settings)."""

    contact_details: int = 1095
    message_bodies: int = 730
    free_texts: int = 730
    evidence_files: int = 730
    audit_events: int = 1825
    collection_records: int = 1825
    # A self-service link (with its sessions and one-time codes) after it expired: its counts
    # of wrong identity values and opens stay for abuse reviews, then it goes.
    selfservice_links: int = 90

    @property
    def consent_events(self) -> int:
        """Consent history is evidence of the collection record: it goes with it, never
        before (an account's whole history, once its whole record is past this period)."""
        return self.collection_records


class RetentionSettings(BaseSettings):
    """Retention periods per data class. Mixed into `overdue.settings.Settings`."""

    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    retention_contact_details_days: int = Field(
        default=RetentionPeriods.contact_details,
        ge=1,
        description="Days a customer's name, phone, time zone and locale are kept after the "
        "account's last activity; never while its workflow is open.",
    )
    retention_message_bodies_days: int = Field(
        default=RetentionPeriods.message_bodies,
        ge=1,
        description="Days an SMS body (sent or received) is kept after the message.",
    )
    retention_free_texts_days: int = Field(
        default=RetentionPeriods.free_texts,
        ge=1,
        description="Days call notes and other free texts are kept after they were written.",
    )
    retention_evidence_files_days: int = Field(
        default=RetentionPeriods.evidence_files,
        ge=1,
        description="Days evidence files borrowers upload (self-service) are kept after upload.",
    )
    retention_audit_events_days: int = Field(
        default=RetentionPeriods.audit_events,
        ge=1,
        description="Days an audit event is kept; at least 730 (the collection-record floor).",
    )
    retention_collection_records_days: int = Field(
        default=RetentionPeriods.collection_records,
        ge=1,
        description="Days ledger rows, call tasks, dial attempts and compliance receipts are "
        "kept; at least 730 (CN credit-card measures).",
    )
    retention_selfservice_links_days: int = Field(
        default=RetentionPeriods.selfservice_links,
        ge=1,
        description="Days a self-service link, its sessions and one-time codes are kept after "
        "the link expired (hashes, counts and ids only).",
    )
    retention_purge_interval_hours: int = Field(
        default=24, ge=1, le=24 * 7, description="Hours between runs of the retention purge."
    )

    @field_validator("retention_collection_records_days", "retention_audit_events_days")
    @classmethod
    def _floor(cls, days: int, info: ValidationInfo) -> int:
        # A field validator, so the error shows this value only, never the other settings.
        name = info.field_name or ""
        floor, why = FLOORS[name]
        if days < floor:
            raise ValueError(
                f"OVERDUE_{name.upper()} is {days} days, below its floor of {floor} days: {why}"
            )
        return days

    def retention_periods(self) -> RetentionPeriods:
        return RetentionPeriods(
            contact_details=self.retention_contact_details_days,
            message_bodies=self.retention_message_bodies_days,
            free_texts=self.retention_free_texts_days,
            evidence_files=self.retention_evidence_files_days,
            audit_events=self.retention_audit_events_days,
            collection_records=self.retention_collection_records_days,
            selfservice_links=self.retention_selfservice_links_days,
        )
