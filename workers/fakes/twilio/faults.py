"""Faults the fake injects into Twilio API calls, queued one by one or at a seeded random rate.

Three kinds leave nothing behind (the request was not processed) and three kinds create the
message and then fail to say so, which is what makes a sender reconcile before resending.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"  # HTTP 500 (error 20500), nothing created
    SERVICE_UNAVAILABLE = "service_unavailable"  # HTTP 503 (error 20503), nothing created
    TOO_MANY_REQUESTS = "too_many_requests"  # HTTP 429 (error 20429), nothing created
    TIMEOUT = "timeout"  # hangs past any sane client timeout, nothing created
    ACCEPTED_TIMEOUT = "accepted_timeout"  # creates the message, then hangs
    RESPONSE_LOST = "response_lost"  # creates the message, then drops the connection

    @property
    def creates(self) -> bool:
        """True when a create request with this fault still creates the message."""
        return self in (FaultKind.ACCEPTED_TIMEOUT, FaultKind.RESPONSE_LOST)


@dataclass(frozen=True)
class InjectedFault:
    kind: FaultKind
    method: str
    created_sid: str | None  # the message this fault created, if any


@dataclass
class FaultPlan:
    """Which API calls fail, and how.

    `queued` faults hit the next calls in order; after them, each call fails with probability
    `rate`, with a kind drawn from `kinds`, from a generator seeded with `seed` (reproducible).
    """

    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = tuple(FaultKind)
    seed: int | None = None
    queued: list[FaultKind] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        if self.rate > 0 and not self.kinds:
            raise ValueError("a fault rate needs at least one fault kind")
        self._rng = random.Random(self.seed)  # noqa: S311  # test faults, not security

    def next_fault(self) -> FaultKind | None:
        if self.queued:
            return self.queued.pop(0)
        if self.rate and self._rng.random() < self.rate:
            return self._rng.choice(self.kinds)
        return None
