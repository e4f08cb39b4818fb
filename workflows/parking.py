"""Parking: what the account workflow does with an error nobody meant it to raise.

Without it, an exception from the decision code or the run loop (an `OverflowError` from a date
at the calendar's end, a value a search attribute cannot hold, a bug) fails the workflow task,
and Temporal retries that task, and fails it again, forever: the account is wedged, and signals
sent to it (payments) are accepted and never applied. Instead the workflow parks: it records a
short reason code, shows it (status query, `OverdueState=parked`, the workflow's current
details, a log line) and waits for ops (`resume_by_ops`) or any new event to try again.

A reason code names the exception's type and the function it came from, never its message:
messages can quote values, and the code ends up in search attributes, logs and the UI. Pure: no
Temporal imports, so the simulator and tests can use it too.
"""

from __future__ import annotations

from types import TracebackType

from workflows.types import Parked

# Frames from these folders say more about where it went wrong than a library's own frames.
_OUR_FOLDERS = ("/workflows/", "/activities/", "/overdue/")
_REASON_LIMIT = 120


def reason_code(error: BaseException) -> str:
    """`TypeName in module.function`, from the innermost frame of ours (else the innermost)."""
    frames: list[tuple[str, str]] = []
    tb: TracebackType | None = error.__traceback__
    while tb is not None:  # walked by hand: traceback.extract_tb reads source files
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    ours = [f for f in frames if any(d in f[0].replace("\\", "/") for d in _OUR_FOLDERS)]
    where = ""
    if ours or frames:
        filename, function = (ours or frames)[-1]
        module = filename.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py")
        where = f" in {module}.{function}"
    return f"{type(error).__name__}{where}"[:_REASON_LIMIT]


def details(parked: Parked) -> str:
    """The workflow's current details while parked (shown on its page in the Temporal UI)."""
    return (
        f"PARKED since {parked.since.isoformat()}: {parked.reason}. Nothing is sent while "
        "parked. Fix the cause, then signal resume_by_ops (or report any event) to try again."
    )
