"""What the workflow's messages share: frozen models that refuse unknown fields, and how free
text people type is referred to.

Free text people type (reasons, resolutions, notes) stays in Postgres (`free_texts`); a message
carries its id instead. The old text fields stay accepted, empty by default, because recorded
histories carry them: new code never fills them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TEXT_ID_PATTERN = r"^txt-[0-9a-f]{32}$"
LEGACY_TEXT = "Legacy free text, accepted for old histories; never filled now (use text_id)."


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def text_id_field() -> Any:
    return Field(default=None, pattern=TEXT_ID_PATTERN, description="A free_texts row.")


def legacy_text_field(max_length: int = 500) -> Any:
    return Field(default="", max_length=max_length, description=LEGACY_TEXT)
