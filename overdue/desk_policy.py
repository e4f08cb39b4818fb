"""The policy file's `desk` section: what the console shows agents, never what a process does.

A call guide per stage and locale (what to say, which options to offer, words to avoid) and
the plan calculator's instalment interval. Both only help a person on the phone, so they stay
out of `workflows.policy.Policy`: the policy travels in every workflow's input, and text no
decision reads would only make inputs and histories bigger. `overdue.policy_files` takes the
section out of the file before the policy is validated, checks it here (a guide for a stage
the policy lacks is refused with the file's other problems), and the console reads it from
the same file (`read_desk`). docs/policies.md, "The collections desk".
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

DESK_KEY = "desk"
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2}|-[A-Z][a-z]{3})?$")  # en, zh-CN, zh-Hans

GuideLine = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
GuideLines = Annotated[list[GuideLine], Field(max_length=12)]


class CallGuide(BaseModel):
    """A short script for one stage in one language."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    say: GuideLines = Field(default_factory=list, description="What to say, in order.")
    offer: GuideLines = Field(default_factory=list, description="Options to offer.")
    avoid: GuideLines = Field(default_factory=list, description="Words and moves to avoid.")


class PlanCalculator(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    interval_days: int | None = Field(
        default=None,
        ge=1,
        le=92,
        description="Days between instalments; unset: monthly, on the first date's day.",
    )


class DeskPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    guides: dict[str, dict[str, CallGuide]] = Field(
        default_factory=dict, description="Stage id -> locale (en, zh-CN) -> guide."
    )
    plan: PlanCalculator = Field(default_factory=PlanCalculator)

    def guide(self, stage_id: str, lang: str, fallback: str) -> CallGuide | None:
        """The stage's guide in `lang`, else in `fallback` (the policy's default locale)."""
        by_locale = self.guides.get(stage_id, {})
        return by_locale.get(lang) or by_locale.get(fallback)


def desk_problems(section: object, stage_ids: set[str]) -> list[tuple[str, str]]:
    """What is wrong with a file's `desk` section, as (path, reason) like the file's others."""
    try:
        desk = DeskPolicy.model_validate(section or {})
    except ValidationError as err:
        return [
            (
                ".".join([DESK_KEY, *(str(part) for part in e["loc"])]),
                str(e["msg"]).removeprefix("Value error, "),
            )
            for e in err.errors()
        ]
    problems = []
    for stage_id, by_locale in desk.guides.items():
        if stage_id not in stage_ids:
            problems.append((f"{DESK_KEY}.guides.{stage_id}", "the policy has no such stage"))
        problems.extend(
            (f"{DESK_KEY}.guides.{stage_id}.{locale}", "not a locale like en or zh-CN")
            for locale in by_locale
            if not _LOCALE.match(locale)
        )
    return problems


def split_desk(data: dict[str, Any]) -> tuple[dict[str, Any], object]:
    """The file's mapping without its desk section, and the section (None when absent)."""
    rest = {key: value for key, value in data.items() if key != DESK_KEY}
    return rest, data.get(DESK_KEY)


def read_desk(file: Path) -> DeskPolicy:
    """The desk section of a policy file the loader has accepted (empty when it has none)."""
    return _read_desk(file, file.stat().st_mtime_ns)


@cache
def _read_desk(file: Path, _mtime: int) -> DeskPolicy:
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    section = data.get(DESK_KEY) if isinstance(data, dict) else None
    return DeskPolicy.model_validate(section or {})
