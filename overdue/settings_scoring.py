"""Risk scoring's settings (docs/strategy.md#risk-scoring): where trained models are written, how
long a bill is watched for its outcome, and whether a start is scored."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_ROOT = Path(__file__).resolve().parent.parent


class ScoringSettings(BaseSettings):
    """Mixed into `overdue.settings.Settings`."""

    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    score_model_dir: Path = Field(
        default=_ROOT / ".state" / "score-models",
        description="Folder `overdue score train` writes each model's JSON file to.",
    )
    score_outcome_days: int = Field(
        default=60,
        ge=1,
        le=730,
        description="Days after a bill was reported within which payments covering it count "
        "as paid; only bills older than this are closed and used for training.",
    )
    score_at_start: bool = Field(
        default=True,
        description="Score each reported bill with the active model and pass its segment to "
        "a starting process that the backend gave none.",
    )
