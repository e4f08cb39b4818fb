"""Champion / challenger settings (docs/strategy.md#champion--challenger). Mixed into
`overdue.settings.Settings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExperimentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    experiment_policy_dir: Path = Field(
        default=Path("policies"),
        description="Folder whose policy files `overdue experiment create` searches for each "
        "arm's policy id and version (snapshotted into the experiment).",
    )
    experiment_guardrail_check_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="At most one guardrail check per this many seconds, made by the start that "
        "finds the last one older (0: before every assignment).",
    )
