"""The patch registry (workflows/patches.py) is the one place patch ids live."""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path

from workflows import patches

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = sorted((ROOT / "tests" / "histories").glob("*.json"))


def _recorded_patch_ids(path: Path) -> set[str]:
    ids = set()
    for event in json.loads(path.read_text())["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker is None or marker.get("markerName") != "core_patch":
            continue
        [payload] = marker["details"]["patch-data"]["payloads"]
        ids.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return ids


def test_every_patch_is_registered_once_and_no_retired_id_is_back() -> None:
    ids = [p.id for p in patches.PATCHES]
    assert len(ids) == len(set(ids))
    assert not set(ids) & set(patches.RETIRED)
    constants = {
        value for name, value in vars(patches).items() if name.isupper() and isinstance(value, str)
    }
    assert constants == set(ids)


def test_every_patch_in_a_recorded_history_is_registered() -> None:
    recorded = set().union(*(_recorded_patch_ids(path) for path in HISTORIES))
    assert recorded, "no recorded history carries a patch marker any more"
    assert recorded <= {p.id for p in patches.PATCHES}


def test_workflow_code_names_patches_from_the_registry_only() -> None:
    """`workflow.patched("...")` with a literal would be a patch the registry does not know."""
    literal_ids = [
        f"{path.name}:{node.lineno}"
        for path in sorted((ROOT / "workflows").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("patched", "deprecate_patch")
        and any(isinstance(arg, ast.Constant) for arg in node.args)
    ]
    assert literal_ids == []
