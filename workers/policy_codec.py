"""The worker's payload codec that puts named policy versions on the shelf before a workflow
decodes its input (workflows/policy_shelf.py).

A start input or a carried record names its policy by digest. The codec runs in the worker,
outside the sandbox, on every activation's payloads before the workflow sees them: for a
payload that names a version this process has not shelved, it reads the version from Postgres
(overdue/store/policy_versions.py), so the workflow's decoding never misses. It changes no
payload: the history and the Temporal UI show the reference as sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import asyncpg
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

import workflows.policy_shelf as shelf
from overdue.store import policy_versions

_NAMES_A_POLICY = b'"policy_ref":{'
_DIGEST = re.compile(rb'"digest":"([0-9a-f]{64})"')


def named_digests(payloads: Sequence[Payload]) -> set[str]:
    """The policy digests these payloads name that are not on the shelf."""
    found: set[str] = set()
    for payload in payloads:
        if _NAMES_A_POLICY in payload.data:
            found.update(m.decode() for m in _DIGEST.findall(payload.data))
    return {digest for digest in found if shelf.take(digest) is None}


class PolicyShelfCodec(PayloadCodec):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        missing = named_digests(payloads)
        if missing:
            # Postgres down: the activation fails and Temporal retries the task; nothing lost.
            await policy_versions.shelve_stored(self._pool, missing)
        return list(payloads)
