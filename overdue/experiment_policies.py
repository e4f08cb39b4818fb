"""The policy each arm of an experiment names, found by id and version among the policy files
of a folder and loaded as the API loads its own (validated, templates linted)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from pathlib import Path

from overdue.experiments import Experiment
from overdue.policy_files import PolicyFileError, load_policy
from workflows.policy import Policy


class ArmPolicyError(ValueError):
    """An arm's policy cannot be found or used. `problems`: (path, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))


def arm_policies(
    experiment: Experiment,
    folder: Path,
    *,
    today: date | None = None,
    sms_senders: Collection[str] = (),
) -> dict[str, Policy]:
    """Arm name -> its policy; ArmPolicyError naming every arm whose policy is missing, at
    another version, or invalid."""
    found: dict[tuple[str, int], Policy] = {}
    versions: dict[str, list[str]] = {}
    problems: list[tuple[str, str]] = []
    for file in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            loaded = load_policy(file, today, sms_senders=sms_senders)
        except PolicyFileError as err:
            problems.append((str(file), str(err).splitlines()[0]))
            continue
        found.setdefault((loaded.id, loaded.version), loaded)
        versions.setdefault(loaded.id, []).append(f"{file.name}: version {loaded.version}")
    policies: dict[str, Policy] = {}
    missing: list[tuple[str, str]] = []
    for index, arm in enumerate(experiment.arms):
        policy = found.get((arm.policy.id, arm.policy.version))
        if policy is not None:
            policies[arm.name] = policy
            continue
        have = "; ".join(versions.get(arm.policy.id, [])) or "no file has this id"
        missing.append(
            (
                f"arms.{index}.policy",
                f"policy {arm.policy.id!r} version {arm.policy.version} not found in {folder} "
                f"({have})",
            )
        )
    if missing:
        # Unusable files are named only when an arm is missing: one may be the one it wants.
        raise ArmPolicyError(missing + problems)
    return policies
