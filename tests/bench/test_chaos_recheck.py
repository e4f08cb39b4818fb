"""`bench.chaos --recheck FOLDER` reads a kept run's histories again without its Postgres: the
policy versions their inputs name by digest are kept in the folder and shelved first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import workflows.policy_shelf as shelf
from bench.chaos_evidence import POLICY_VERSIONS_FILE, shelve_kept_versions
from bench.chaos_stack import POLICY_FILE
from overdue.policy_files import load_policy


@pytest.fixture(autouse=True)
def cold_shelf() -> Iterator[None]:
    shelf.clear()
    yield
    shelf.clear()


def test_the_kept_versions_go_onto_the_shelf(tmp_path: Path) -> None:
    policy = load_policy(POLICY_FILE).model_copy(update={"version": 99})
    ref = shelf.shelve(policy)
    kept = {ref.digest: json.loads(shelf.canonical(policy))}
    shelf.clear()
    (tmp_path / POLICY_VERSIONS_FILE).write_text(json.dumps(kept))
    shelve_kept_versions(tmp_path / POLICY_VERSIONS_FILE)
    assert shelf.take(ref.digest) == policy


def test_a_folder_kept_before_takes_the_chaos_policy_as_it_is(tmp_path: Path) -> None:
    shelve_kept_versions(tmp_path / POLICY_VERSIONS_FILE)
    assert shelf.shelved_policies() == [load_policy(POLICY_FILE)]


def test_a_kept_body_that_does_not_match_its_digest_is_refused(tmp_path: Path) -> None:
    body = json.loads(shelf.canonical(load_policy(POLICY_FILE)))
    (tmp_path / POLICY_VERSIONS_FILE).write_text(json.dumps({"0" * 64: body}))
    with pytest.raises(ValueError, match="does not match its body"):
        shelve_kept_versions(tmp_path / POLICY_VERSIONS_FILE)
