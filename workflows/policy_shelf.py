"""Policies by content hash: a process's shelf of immutable policy versions.

A start input and the record a process carries across continue-as-new name their policy by
its digest (`PolicyRef`, about 120 bytes) instead of carrying it whole (6 KB with templates):
the start request, every history and every continue-as-new stay small, and every account
workflow cached in a worker shares the one `Policy` object of its version.

The digest is the SHA-256 of the policy's canonical JSON, so a digest always means the same
policy: reading it from the shelf is as deterministic as reading it from the history. Who
fills the shelf: the API when it starts a process (it stores the version first,
overdue/store/policy_versions.py), the worker's payload codec from that table before a
workflow decodes a digest the process has not shelved (workers/policy_codec.py), the replayer
from tests/histories/policies/.

A digest not on the shelf yet (a version nobody stored) fails the decoding, hence the workflow
task, which Temporal retries until the version is stored; the miss is noted in `wanted()`. The
workflow's own code never reads the shelf: only the models' validators do (`ByPolicyRef`).

Pure and in memory; imported passed through (workflows/types.py), so one shelf per process.
"""

from __future__ import annotations

import hashlib
import json
import threading  # noqa: TID251 (a lock around the shelf, not workflow code: see _lock)
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from workflows.policy import Policy

DIGEST_PATTERN = r"^[0-9a-f]{64}$"

_shelf: dict[str, Policy] = {}
_wanted: set[str] = set()
_lock = threading.Lock()  # workflow activations decode on the worker's thread pool


class PolicyRef(BaseModel):
    """A policy version by its content digest; id and version for people reading histories."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    version: int
    digest: str = Field(pattern=DIGEST_PATTERN)


class PolicyNotShelved(ValueError):
    """The digest is not on this process's shelf (yet): the loader is asked for it."""


def canonical(policy: Policy) -> bytes:
    """The bytes a digest is taken over: sorted keys, no spaces, UTF-8."""
    body = policy.model_dump(mode="json")
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def shelve(policy: Policy) -> PolicyRef:
    """Put `policy` on the shelf (a copy already there is kept: one object per version)."""
    digest = hashlib.sha256(canonical(policy)).hexdigest()
    with _lock:
        _shelf.setdefault(digest, policy)
        _wanted.discard(digest)
    return PolicyRef(id=policy.id, version=policy.version, digest=digest)


def shelve_body(digest: str, body: Any) -> Policy:
    """A stored version (its JSON body), checked against its digest, onto the shelf."""
    policy = Policy.model_validate(body)
    ref = shelve(policy)
    if ref.digest != digest:
        raise ValueError(f"policy version {digest} does not match its body ({ref.digest})")
    return take(digest) or policy


def take(digest: str) -> Policy | None:
    return _shelf.get(digest)


def on_shelf() -> frozenset[str]:
    with _lock:
        return frozenset(_shelf)


def shelved_policies() -> list[Policy]:
    """Every policy on the shelf, by id and newest version first (for naming a stage that the
    current policy file does not have)."""
    with _lock:
        policies = list(_shelf.values())
    return sorted(policies, key=lambda p: (p.id, -p.version))


def clear() -> None:
    """Empty the shelf: a cold process, for tests and tools that must show one."""
    with _lock:
        _shelf.clear()
        _wanted.clear()


def wanted() -> frozenset[str]:
    """Digests a decoding missed since they were last shelved."""
    with _lock:
        return frozenset(_wanted)


def _resolve(data: Any) -> Any:
    """A serialized input or record names its policy by `policy_ref` only: put the shelf's
    object in (the same one for every process of that version)."""
    if not isinstance(data, dict) or "policy" in data or data.get("policy_ref") is None:
        return data
    ref = data["policy_ref"]
    digest = ref.digest if isinstance(ref, PolicyRef) else ref.get("digest")
    policy = take(digest) if isinstance(digest, str) else None
    if policy is None:
        with _lock:
            if isinstance(digest, str):
                _wanted.add(digest)
        raise PolicyNotShelved(f"policy version {digest} is not on this process's shelf yet")
    return {**data, "policy": policy}


class ByPolicyRef(BaseModel):
    """A model whose `policy` travels as `policy_ref` when it has one (the start input, the
    carried record). Without a ref (inputs from before release 3, tests, the simulator) the
    policy travels whole, as before."""

    policy_ref: PolicyRef | None = Field(
        default=None,
        description="The policy by digest (workflows/policy_shelf.py); when set, `policy` is "
        "left out of the serialized form and taken from the shelf when read.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_shelf(cls, data: Any) -> Any:
        return _resolve(data)

    @model_serializer(mode="wrap")
    def _by_ref(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if self.policy_ref is not None and isinstance(data, dict):
            data.pop("policy", None)
        return data
