"""A flame graph of a worker process while a benchmark phase runs (py-spy, from the lock file).

`bench.throughput --profile DIR` attaches py-spy to the first worker process of each phase once
it is READY (its start-up is not in the graph, as its CPU is not in the figures) and stops it
when the phase's last contact is in. `--gil` samples only the thread holding the GIL: without
it the SDK's idle workflow-task threads, waiting on their queue, looked busy and were half the
samples. So a frame's share is its share of the worker's Python time (the SDK's Rust core,
which has no GIL, is not in the graph). `--function` merges the lines of a function, which
keeps the graph readable. py-spy reads the worker's memory, so it needs ptrace rights over it
(the same user with `kernel.yama.ptrace_scope` 0, or root; in a container, CAP_SYS_PTRACE);
without them the phase's `profile` says why and the figures are unaffected.

The summary read back from the SVG is, for each part that matters to issue 19 (the sandbox's new
instance, workflow activations, activities, Postgres, pydantic), the share of the samples spent
inside it.
"""

from __future__ import annotations

import asyncio
import html
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import venv_binary

# Each frame of py-spy's flamegraph SVG: its title (`name (file) (N samples, P%)`) and its place
# in samples (`fg:x`, `fg:w`), which nest: a callee's range lies inside its caller's.
_FRAME = re.compile(
    r"<title>(?P<label>.*?) \([\d,]+ samples, [^)]*\)</title>"
    r'<rect [^>]*?fg:x="(?P<x>\d+)" fg:w="(?P<w>\d+)"'
)
RATE_HZ = 100


@dataclass
class Profiler:
    """py-spy recording one process into `svg` until `stop()`."""

    pid: int
    svg: Path
    child: asyncio.subprocess.Process | None = None

    async def start(self) -> Profiler:
        self.svg.parent.mkdir(parents=True, exist_ok=True)
        argv = [venv_binary("py-spy"), "record", "--pid", str(self.pid), "--rate", str(RATE_HZ)]
        argv += ["--gil", "--function", "--format", "flamegraph", "--output", str(self.svg)]
        self.child = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        return self

    async def stop(self) -> dict[str, Any]:
        """SIGINT makes py-spy write the graph; the summary is read back from it."""
        child, self.child = self.child, None
        if child is None:  # stopped already
            return {}
        if child.returncode is None:
            child.send_signal(signal.SIGINT)
        out, _ = await asyncio.wait_for(child.communicate(), timeout=60)
        if not self.svg.exists():
            return {"error": "\n".join(out.decode(errors="replace").splitlines()[-5:])}
        return {"flame_graph": str(self.svg), **summarise(self.svg.read_text())}


async def start_profiler(pid: int, folder: Path | None, name: str) -> Profiler | None:
    """py-spy on one worker process into `folder/name.svg`, when --profile asks for it."""
    return None if folder is None else await Profiler(pid, folder / f"{name}.svg").start()


async def stop_profiler(profiler: Profiler | None) -> dict[str, Any] | None:
    """The flame graph's path and summary; None when not profiling."""
    return None if profiler is None else await profiler.stop()


# Where a worker's CPU goes, by the functions that start each part (substring of `name (file)`).
PARTS = {
    "new workflow instance (sandbox import + class definition)": "create_instance (",
    "workflow activations (all)": "activate (temporalio/worker/workflow_sandbox/_runner.py",
    "activities (all)": "_execute_activity (temporalio/worker/_activity.py",
    "SMS activity": "send_sms (",
    "Postgres (asyncpg, in activities)": "asyncpg/",
    "pydantic (de)serialisation": "pydantic/",
    "event loop's socket writes": "_write_to_self",
}


def summarise(svg_text: str) -> dict[str, Any]:
    """Total samples and, per part, the share of samples whose stack holds one of its frames.

    The union of the matching frames' sample ranges: a frame nested in another matching one
    (asyncpg calling asyncpg) is counted once, as the flame graph shows it.
    """
    frames = [
        (html.unescape(m["label"]), int(m["x"]), int(m["w"])) for m in _FRAME.finditer(svg_text)
    ]
    total = max((w for label, _, w in frames if label == "all"), default=0)
    shares: dict[str, float | None] = {}
    for part, needle in PARTS.items():
        ranges = sorted((x, x + w) for label, x, w in frames if needle in label)
        covered, reach = 0, 0
        for begin, end in ranges:
            covered += max(0, end - max(begin, reach))
            reach = max(reach, end)
        shares[part] = round(covered / total, 3) if total else None
    return {"samples": total, "rate_hz": RATE_HZ, "shares": shares}


def report_profile(phase: str, profile: dict[str, Any] | None) -> None:
    """A phase's flame graph and where its worker's CPU went, one line per part."""
    if not profile:
        return
    if "error" in profile:
        print(f"{phase}: no flame graph: {profile['error']}")
        return
    print(f"{phase}: flame graph {profile['flame_graph']} ({profile['samples']:,} samples)")
    for part, share in profile["shares"].items():
        print(f"  {'-' if share is None else f'{share:6.1%}'}  {part}")
