"""The fuzzer: sends the cases of bench/fuzz_cases.py to every operation, checks every answer
and sorts the failures into a Report (bench/fuzz.py has the whole story).
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.fuzz_cases import (
    KNOWN_500S,
    PUT_OVERDUE,
    REALISTIC,
    SEEDS,
    SIGNATURES,
    Case,
    Operation,
    Seen,
    Signature,
    account_of,
    body_field,
    calendar_end,
    put_at,
    signatures_of,
    user_cases,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BATCH_FLOOR = 5  # cases of each batch sent even past its deadline
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass
class Report:
    calls: int = 0
    seconds: float = 0.0
    not_sent_budget: int = 0  # cases left unsent: the time budget was spent
    statuses: Counter[str] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    seconds_by_operation: defaultdict[str, float] = field(
        default_factory=lambda: defaultdict(float)
    )
    reached: Counter[str] = field(default_factory=Counter)  # requests per signature, any answer
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (signature, status)
    slow_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    defused: Counter[str] = field(default_factory=Counter)
    known: Counter[tuple[str, str]] = field(default_factory=Counter)  # (signature, operation)
    server_errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, cause)
    violations: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, check)
    new: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, what failed)
    new_examples: dict[str, str] = field(default_factory=dict)  # a curl command per new class

    @property
    def requests_per_second(self) -> float:
        return round(self.calls / self.seconds, 1) if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.calls} calls in {self.seconds:.1f} s ({self.requests_per_second} req/s); "
            f"5xx {sum(self.server_errors.values())}, schema violations "
            f"{sum(self.violations.values())}; failures known {sum(self.known.values())}, "
            f"new {sum(self.new.values())}; not sent (budget) {self.not_sent_budget}"
        )

    def new_failures(self) -> str:
        return "\n\n".join(
            f"{op}: {what} (x{n})\n  {self.new_examples[f'{op}: {what}']}"
            for (op, what), n in self.new.most_common()
        )

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"requests_per_second": self.requests_per_second}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Counter):
                value = [
                    [*k, n] if isinstance(k, tuple) else [k, n] for k, n in sorted(value.items())
                ]
            elif isinstance(value, defaultdict):  # seconds
                value = {k: round(v, 1) for k, v in sorted(value.items())}
            data[f.name] = round(value, 1) if isinstance(value, float) else value
        return data


@dataclass
class Fuzzer:
    """Sends user-like cases to every operation and sorts the failures (bench/fuzz.py)."""

    base_url: str
    api_key: str
    timeout: float = 15.0  # per request
    slow_samples: int = 1  # known failures of a slow signature to see, per operation...
    slow_time: float = 30.0  # ... or seconds spent on it, before its cases are defused
    report: Report = field(default_factory=Report)
    seen: Seen = field(default_factory=Seen)
    session: requests.Session = field(default_factory=requests.Session)
    _deadline: float = 0.0
    _sent_in_batch: int = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def run(
        self,
        spec: dict[str, Any],
        examples: int,
        budget: float,
        *,
        rounds: int = 1,
        stop_at: int = 0,
        only: Collection[str] = (),
    ) -> Report:
        """`examples` cases per operation (those labelled in `only`, or all) and mode, `rounds`
        times (each its own seeds) or until `stop_at` calls; a batch may take three times its
        share of the time left (or that share and `slow_time`), never past the budget."""
        schema = schemathesis.openapi.from_dict(spec).exclude(path_regex="^/webhooks/")
        operations = []
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), result.err()  # the spec itself is valid
            if not only or result.ok().label in only:
                operations.append(result.ok())
        batches = [(op, mode, r) for r in range(rounds) for op in operations for mode in MODES]
        began = time.perf_counter()
        self.seed_accounts(first=True)
        for n, (op, mode, round_) in enumerate(batches):
            if stop_at and self.report.calls >= stop_at:
                break
            now, end = time.perf_counter(), began + budget
            share = max(0.0, end - now) / (len(batches) - n)
            self._deadline = min(end, now + max(3 * share, share + self.slow_time))
            if mode is MODES[0] and "{account_id}" in op.path:
                self.seed_accounts()
            self._batch(
                op, mode, examples, zlib.crc32(f"{op.label} {mode.value} {round_}".encode())
            )
        self.probe_unreached(operations)
        self.report.seconds = time.perf_counter() - began
        return self.report

    def probe_unreached(self, operations: list[Operation]) -> None:
        """Each edge-value signature of these operations that no generated case carried goes
        out once, built by hand on a seed's report. Generation is seeded, but what a batch
        draws can still follow from earlier answers (another test's accounts on the same
        stack), and the edge values must go out in every run."""
        for op in operations:
            for sig in SIGNATURES:
                probe = PROBES.get(sig.name)
                if probe and op.label in sig.operations and not self.report.reached[sig.name]:
                    body = seed_report(f"probe-{sig.name}")
                    put_at(body, *probe)
                    path = {"account_id": self.seen.new_account()}
                    self.send(op.label, op.Case(path_parameters=path, body=body))

    def seed_accounts(self, first: bool = False) -> None:
        """The seeded accounts exist and run again (a new bill restarts a resolved one)."""
        for account_id in SEEDS:
            answer = self.session.put(
                f"{self.base_url}/v1/accounts/{account_id}/overdue",
                json=seed_report(f"seed-{uuid.uuid4().hex[:12]}"),
                headers=self.headers,
                timeout=self.timeout,
            )
            if answer.status_code >= 500 or (first and answer.status_code not in (200, 201)):
                raise RuntimeError(f"seeding {account_id}: {answer.status_code} {answer.text}")

    def _batch(self, op: Operation, mode: schemathesis.GenerationMode, n: int, key: int) -> None:
        self._sent_in_batch = 0

        @seed(key)
        @settings(
            max_examples=n,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=user_cases(op, mode, self.seen))
        def batch(case: Case) -> None:
            self.send(op.label, case)

        try:
            batch()
        except Unsatisfiable:
            # Nothing to break in an operation without inputs (e.g. /healthz).
            if mode is not schemathesis.GenerationMode.NEGATIVE:
                raise

    def send(self, label: str, case: Case) -> None:
        report = self.report
        # The first cases of every batch, and the first case of each edge-value signature, go
        # out whatever the clock says, so that on a slow or busy machine every operation and
        # every signature is still reached; the budget bounds only the rest.
        self._sent_in_batch += 1
        first_of_a_signature = any(
            report.reached[sig.name] == 0 for sig in signatures_of(label, case, self.seen)
        )
        over_budget = self._sent_in_batch > BATCH_FLOOR and time.perf_counter() > self._deadline
        if over_budget and not first_of_a_signature:
            report.not_sent_budget += 1
            return
        for sig in signatures_of(label, case, self.seen):
            sampled = report.known[(sig.name, label)] >= self.slow_samples
            if sig.defuse and (sampled or report.slow_seconds[sig.name] > self.slow_time):
                sig.defuse(case)
                report.defused[sig.name] += 1
        matched = signatures_of(label, case, self.seen)
        started = time.perf_counter()
        status, outcome = self._call(label, case, matched)
        elapsed = time.perf_counter() - started
        report.calls += 1
        report.by_operation[label] += 1
        report.seconds_by_operation[label] += elapsed
        report.statuses[outcome] += 1
        for sig in matched:
            report.reached[sig.name] += 1
            report.outcomes[(sig.name, outcome)] += 1
            report.slow_seconds[sig.name] += elapsed if sig.defuse else 0.0
        # 201 started and 200 already running alike: whether another test (or group) of the
        # same stack made the account first must not change what this fuzzer draws next.
        if label == PUT_OVERDUE and status in (200, 201):
            if account_of(case) not in self.seen.created:  # first time only: deterministic
                self.seen.created.append(account_of(case))
            if calendar_end(body_field(case, "due_date")):
                self.seen.broken.add(account_of(case))

    def _call(self, label: str, case: Case, matched: list[Signature]) -> tuple[int | None, str]:
        """Send the case and check the answer: (status, its class or the error's name)."""
        try:
            response = case.call(
                base_url=self.base_url,
                session=self.session,
                headers=self.headers,
                timeout=self.timeout,
            )
        except requests.RequestException as err:
            self._failed(label, case, matched, f"no answer: {type(err).__name__}", server=True)
            return None, type(err).__name__
        status = response.status_code
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, Failure) as err:  # FailureGroup: a BaseException, not Exception
            failures = err.exceptions if isinstance(err, FailureGroup) else (err,)
            titles = "; ".join(sorted({f.title for f in failures}))
            self._failed(label, case, matched, f"{status}: {titles}", server=status >= 500)
        return status, f"{status // 100}xx"

    def _failed(
        self, label: str, case: Case, matched: list[Signature], what: str, *, server: bool
    ) -> None:
        report = self.report
        known = [s.name for s in matched if s.name in KNOWN_500S]
        cause = known[0] if known else "new"
        if server:
            report.server_errors[(label, cause)] += 1
        else:
            report.violations[(label, cause if known else what)] += 1
        if known:
            report.known[(cause, label)] += 1
            return
        if matched:
            what = f"{what} [{matched[0].name}]"
        report.new[(label, what)] += 1
        report.new_examples.setdefault(
            f"{label}: {what}", case.as_curl_command(headers={"Authorization": "Bearer $KEY"})
        )


# A hand-made case per edge-value signature of PUT .../overdue: the seed's report with one field
# at its edge (Fuzzer.probe_unreached).
PROBES: dict[str, tuple[tuple[str, ...], object]] = {
    "nul-in-customer-name": (("customer", "name"), "Fuzz\x00Seed"),
    "int64-amount-due": (("amount_due", "amount_minor"), 2**63),
    "calendar-end-due-date": (("due_date",), "9999-12-31"),
}


def seed_report(bill_id: str) -> dict[str, Any]:
    """A seeded account's bill: large, so that most fuzzed payments leave it running."""
    return {
        "customer": {"name": "Fuzz Seed", "phone": REALISTIC["phone"][0], "time_zone": "UTC"},
        "product": "credit_line",
        "amount_due": {"amount_minor": 10**12, "currency": "CNY"},
        "due_date": (date.today() - timedelta(days=2)).isoformat(),
        "bill_id": bill_id,
    }
