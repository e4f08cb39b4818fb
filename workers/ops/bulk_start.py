"""`overdue bulk-start accounts.csv`: report many overdue bills, as the API's PUT does.

- **Same code path.** Each valid row goes through `api.overdue_reports.report_bill`, what
  `PUT /v1/accounts/{id}/overdue` runs: contact details stored, the process started or the new
  bill signalled, audited with the CLI's actor. So it is idempotent the same way: a bill
  already reported adds nothing.
- **Rate limited.** Starts are paced to `--rate` per second (a few run at once, `--concurrency`)
  so a big file does not crowd out the API's own traffic on Temporal and Postgres.
- **Resumable.** A progress file (JSON, beside the CSV by default) records how many rows are
  done, in file order, and the rejected ones. Run the same command again after a stop (Ctrl-C,
  a lost connection) and it goes on where it stopped; rows after that point that were done
  already are recognised by the idempotency above. The CSV's SHA-256 is kept too: a changed file
  is refused unless `--restart`.
- **Rejected rows** (what the API would answer 422) are listed with line numbers and reasons at
  the end; the exit code is then 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from pydantic import BaseModel, Field

from api.overdue_reports import BillRefused
from api.schemas import OverdueReport, OverdueStarted
from workers.ops.bulk_csv import CsvFormatError, Rejected, ValidRow, read_rows, validate
from workers.ops.errors import OpsError
from workers.ops.progress import Progress

# One row through the API's code path (api.overdue_reports.report_bill with the CLI's actor).
Reporter = Callable[[str, OverdueReport], Awaitable[OverdueStarted]]

SAVE_EVERY_SECONDS = 1.0
SHOWN_REJECTS = 50


class RejectedRow(BaseModel):
    line: int
    account_id: str | None
    reason: str


class Counts(BaseModel):
    started: int = 0  # a new process (the API's 201)
    bill_added: int = 0  # a new bill for a running process (200, bill_added)
    unchanged: int = 0  # bill known, process running (200)
    rejected: int = 0


class ProgressFile(BaseModel):
    """What a run leaves behind, to resume from and to report."""

    csv_sha256: str
    rows_done: int = Field(default=0, description="Data rows done, counted in file order.")
    counts: Counts = Field(default_factory=Counts)
    rejected: list[RejectedRow] = Field(default_factory=list)
    finished: bool = False
    updated_at: datetime | None = None


def default_progress_path(csv_path: Path) -> Path:
    return csv_path.with_name(csv_path.name + ".progress.json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as err:
        raise OpsError(f"cannot read {path}: {err.strerror}", exit_code=2) from None
    return digest.hexdigest()


@dataclass(frozen=True)
class Outcome:
    state: ProgressFile
    resumed_after: int  # rows done before this run (0: from the top)
    already_finished: bool  # the progress file said so: nothing was done


class RateLimiter:
    """At most `rate` acquisitions per second, evenly spaced (no bursts)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        at = max(self._next, now)
        self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)


RowResult = Literal["started", "bill_added", "unchanged"] | RejectedRow


@dataclass
class Bookkeeping:
    """One run's bookkeeping. Rows finish out of order; a row's outcome is counted only when
    every row before it is done, so `rows_done`, the counts and the rejected list describe the
    same prefix of the file, and a resumed run never counts a row twice."""

    state: ProgressFile
    path: Path
    finished_rows: dict[int, RowResult] = field(default_factory=dict)  # beyond rows_done
    saved_at: float = 0.0

    def row_finished(self, index: int, result: RowResult) -> None:
        self.finished_rows[index] = result
        counts = self.state.counts
        while self.state.rows_done in self.finished_rows:
            done = self.finished_rows.pop(self.state.rows_done)
            if isinstance(done, RejectedRow):
                counts.rejected += 1
                self.state.rejected.append(done)
            else:
                setattr(counts, done, getattr(counts, done) + 1)
            self.state.rows_done += 1

    @property
    def rows_seen(self) -> int:
        """Rows done, in order or not: what the progress bar shows."""
        return self.state.rows_done + len(self.finished_rows)

    def save(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.saved_at < SAVE_EVERY_SECONDS:
            return
        self.saved_at = now
        self.state.updated_at = datetime.now(UTC)
        self.state.rejected.sort(key=lambda r: r.line)
        # Written aside and renamed: a crash mid-write never leaves a torn progress file.
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(self.state.model_dump_json(indent=2) + "\n", encoding="utf-8")
        partial.replace(self.path)


def load_progress(path: Path, csv_sha256: str, *, restart: bool, csv_path: Path) -> ProgressFile:
    if restart or not path.exists():
        return ProgressFile(csv_sha256=csv_sha256)
    try:
        state = ProgressFile.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise OpsError(
            f"{path} is not a bulk-start progress file ({type(err).__name__}); "
            "move it away or pass --restart",
            exit_code=2,
        ) from None
    if state.csv_sha256 != csv_sha256:
        raise OpsError(
            f"{csv_path} changed since {path} was written ({state.rows_done} rows were done "
            "then). Pass --restart to go through it from the first row (safe: bills already "
            "reported are recognised and add nothing), or use a new file for new rows",
            exit_code=2,
        )
    return state


async def bulk_start(
    csv_path: Path,
    report: Reporter,
    *,
    rate: float,
    concurrency: int,
    progress_path: Path,
    restart: bool,
    err: TextIO,
) -> Outcome:
    """Go through the CSV from where the progress file says."""
    checksum = file_sha256(csv_path)
    state = load_progress(progress_path, checksum, restart=restart, csv_path=csv_path)
    run = Bookkeeping(state, progress_path)
    resumed_after = state.rows_done
    if state.finished:
        return Outcome(state, resumed_after, already_finished=True)
    total = await asyncio.to_thread(_count_rows, csv_path)
    bar = Progress(f"bulk-start {csv_path.name}", total, err, unit="rows")
    bar.update(run.state.rows_done)
    rows = _Rows(report, run, bar, RateLimiter(rate), asyncio.Semaphore(concurrency))
    try:
        await rows.go_through(csv_path)
    except CsvFormatError as bad_file:
        raise OpsError(str(bad_file), exit_code=2) from None
    finally:
        bar.finish()
        run.save(force=True)
    if rows.failure:
        line, error = min(rows.failure, key=lambda f: f[0])
        raise OpsError(
            f"stopped at line {line}: {type(error).__name__}: {error}. {run.state.rows_done} "
            f"rows are done; run the same command again to go on from there (progress in "
            f"{progress_path})"
        )
    run.state.finished = True
    run.save(force=True)
    return Outcome(run.state, resumed_after, already_finished=False)


@dataclass
class _Rows:
    """The rows of one run: validated in file order, reported a few at a time at the rate."""

    report: Reporter
    run: Bookkeeping
    bar: Progress
    limiter: RateLimiter
    slots: asyncio.Semaphore
    # (line, error) of rows that failed for want of Temporal or Postgres: the run stops.
    failure: list[tuple[int, BaseException]] = field(default_factory=list)

    async def go_through(self, csv_path: Path) -> None:
        async with _task_group() as tasks:
            for raw in read_rows(csv_path):
                if raw.index < self.run.state.rows_done:
                    continue
                if self.failure:
                    break
                checked = validate(raw)
                if isinstance(checked, Rejected):
                    rejected = RejectedRow(
                        line=checked.line, account_id=checked.account_id, reason=checked.reason
                    )
                    self._finished(raw.index, rejected)
                    continue
                await self.slots.acquire()
                await self.limiter.wait()
                if self.failure:
                    self.slots.release()
                    break
                task = asyncio.create_task(self._one(checked, raw.index, raw.line))
                tasks.add(task)
                task.add_done_callback(tasks.discard)  # a big file keeps only those in flight

    async def _one(self, row: ValidRow, index: int, line: int) -> None:
        result: RowResult
        try:
            answer = await self.report(row.account_id, row.report)
        except BillRefused as refused:  # the API would have answered 422: a rejected row
            result = RejectedRow(line=line, account_id=row.account_id, reason=str(refused))
        except Exception as error:  # Temporal or Postgres away: stop, resumable
            self.failure.append((line, error))
            return
        else:
            result = (
                "started" if answer.created else "bill_added" if answer.bill_added else "unchanged"
            )
        finally:
            self.slots.release()
        self._finished(index, result)
        self.run.save()

    def _finished(self, index: int, result: RowResult) -> None:
        self.run.row_finished(index, result)
        self.bar.update(self.run.rows_seen)


@contextlib.asynccontextmanager
async def _task_group() -> AsyncIterator[set[asyncio.Task[None]]]:
    """Tasks that are all awaited on the way out, even on Ctrl-C (their rows then count)."""
    tasks: set[asyncio.Task[None]] = set()
    try:
        yield tasks
    finally:
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


def _count_rows(path: Path) -> int | None:
    try:
        return sum(1 for _ in read_rows(path))
    except CsvFormatError:
        return None  # reported by the run itself, with the line


def summary(csv_path: Path, state: ProgressFile, elapsed: float, out: TextIO) -> None:
    c = state.counts
    out.write(
        f"bulk-start {csv_path.name}: {state.rows_done} rows done: {c.started} started, "
        f"{c.bill_added} bills added to running processes, {c.unchanged} already known, "
        f"{c.rejected} rejected ({elapsed:.1f} s)\n"
    )
    if not state.rejected:
        return
    out.write("rejected rows (fix them, then report them again; rows that went in stay in):\n")
    for row in state.rejected[:SHOWN_REJECTS]:
        out.write(f"  {Rejected(row.line, row.account_id, row.reason).describe()}\n")
    if len(state.rejected) > SHOWN_REJECTS:
        out.write(f"  ... and {len(state.rejected) - SHOWN_REJECTS} more in the progress file\n")
