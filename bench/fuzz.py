"""Fuzzing: schemathesis over /openapi.json, with what users send, against a real stack.

Every operation but the Twilio webhooks (they answer only signed requests), in positive and
negative mode, each case then bent towards what the schema cannot say and users do send:

- realistic: most cases name an account that exists (four seeded, restarted before each
  operation, and those the fuzz's own PUTs created) and a valid phone, time zone and currency,
  so they get past the 404s and 422s to Postgres and Temporal;
- edge values: NUL and other awkward characters in strings, integers at and past int64, list
  cursors that are no page token, timeline cursors decoded, tampered and encoded again.

Every answer is checked: no 5xx, status, content type, headers and body as documented. A
failure whose request matches a known signature (`KNOWN_500S`: the operation and the field or
value) counts as known; any other is new. A slow known failure (a malformed list cursor costs
5-9 s of Temporal retries, a broken process's status 30 s) is seen `slow_samples` times, then
its cases are defused (cursor dropped, account swapped) and the rest of them still sent. Each
batch of cases has a fixed seed (operation, mode, round): the cases are the same every run.

    .venv/bin/python -m bench.fuzz [--requests 10000] [--budget 1800] [--out FILE]

The cases, edge values and signatures are in bench/fuzz_cases.py, the fuzzer and its report in
bench/fuzz_runner.py. tests/integration/api/test_openapi_fuzz.py runs the same fuzzer, smaller,
in `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.common import ROOT, api_stack, print_table, write_result
from bench.fuzz_cases import SIGNATURES
from bench.fuzz_runner import MODES, Fuzzer, Report


def print_report(report: Report) -> None:
    seconds = report.seconds_by_operation
    ops = sorted(report.by_operation.items())
    print_table([(op, n, f"{seconds[op]:.1f}") for op, n in ops], ["operation", "requests", "s"])
    for title, counter in (("5xx", report.server_errors), ("violations", report.violations)):
        rows = [(*key, n) for key, n in sorted(counter.items())]
        print()
        print_table(rows or [("-", "-", 0)], [f"{title}: operation", "cause", "answers"])
    by_signature: list[tuple[object, ...]] = []
    for sig in SIGNATURES:
        counts = [report.outcomes[(sig.name, c)] for c in ("2xx", "4xx", "5xx")]
        other = report.reached[sig.name] - sum(counts)
        reached, defused = report.reached[sig.name], report.defused[sig.name]
        by_signature.append((sig.name, reached, *counts, other, defused))
    print()
    print_table(
        by_signature,
        ["signature (bench/fuzz_cases.py)", "requests", "2xx", "4xx", "5xx", "other", "defused"],
    )
    print(f"\nstatuses: {dict(sorted(report.statuses.items()))}\n{report.summary()}")
    if report.new:
        print(f"\nNEW failures:\n{report.new_failures()}")


async def run(requests_: int, budget: float, request_timeout: float) -> Report:
    async with api_stack(ROOT / "policies" / "default.yaml") as stack:
        url, key = stack.api_url, stack.key
        fuzzer = Fuzzer(url, key, timeout=request_timeout, slow_samples=3, slow_time=60)
        # requests is synchronous: in a thread, so that the API keeps serving on this loop.
        answer = await asyncio.to_thread(fuzzer.session.get, f"{url}/openapi.json")
        spec = answer.json()
        # Rounds of 100 cases per operation and mode (10 operations with inputs) until
        # `requests_` calls; /healthz and /readyz have none, so the others take their share.
        rounds = -(-requests_ // (100 * len(MODES) * 10)) + 1
        return await asyncio.to_thread(
            fuzzer.run, spec, 100, budget, rounds=rounds, stop_at=requests_
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="at least this many")
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds at most")
    parser.add_argument("--timeout", type=float, default=15.0, help="per request, seconds")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    log = Path(tempfile.gettempdir()) / "bench-fuzz-api.log"
    # The API logs every 500 with its traceback: to a file, not the console.
    logging.basicConfig(filename=log, level=logging.WARNING, force=True)
    report = asyncio.run(run(args.requests, args.budget, args.timeout))
    print_report(report)
    path = write_result("fuzz", {"requests": report.calls, **report.as_json()}, args.out)
    print(f"\nwrote {path} (API log: {log})")
    return 1 if report.new else 0


if __name__ == "__main__":
    sys.exit(main())
