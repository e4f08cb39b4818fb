"""Letters' settings: the fonts the PDFs embed (docs/letters.md).

The default is Debian's Noto Sans CJK (package fonts-noto-cjk, which scripts/debian-packages
and the Dockerfile install): its Simplified Chinese face covers Latin text too, so one font
serves both the zh-CN and the en letter, and any customer's name.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_NOTO = Path("/usr/share/fonts/opentype/noto")


class LetterSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    letter_font: Path = Field(
        default=_NOTO / "NotoSansCJK-Regular.ttc",
        description="Font file of the letters' text (.ttf, .otf or a .ttc collection).",
    )
    letter_font_bold: Path = Field(
        default=_NOTO / "NotoSansCJK-Bold.ttc", description="Font file of their headings."
    )
    letter_font_face: str = Field(
        default="Noto Sans CJK SC",
        min_length=1,
        description="In a .ttc collection, the face to use (by its family name).",
    )
