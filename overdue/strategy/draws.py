"""Reproducible draws: a hash of the seed, the account id and what is drawn (splitmix64), not a
stream, so an account draws the same numbers whatever the order, the process or the others."""

from __future__ import annotations

import hashlib

_MASK = (1 << 64) - 1


def draw(key: int, purpose: int, value: int) -> float:
    """A uniform number in [0, 1) from the account's key, the draw's purpose and a value."""
    return _mix(key ^ _mix(purpose * 1_000_003 + value)) / 2.0**64


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def account_key(seed: int, account_id: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{account_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")
