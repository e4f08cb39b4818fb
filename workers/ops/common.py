"""What the ops commands share: the Temporal connection, query scoping, the actor."""

from __future__ import annotations

import getpass

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from overdue.settings import Settings
from overdue.temporal_client import connect
from workers.ops.errors import OpsError
from workflows.names import WORKFLOW_TYPE_CLAUSE

ACTOR_MAX_LENGTH = 64  # PauseRequest.actor and the audit trail's actor


async def connect_temporal(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as err:
        raise OpsError(
            f"cannot reach Temporal at {settings.temporal_address} (namespace "
            f"{settings.temporal_namespace}): {err}. Check OVERDUE_TEMPORAL_HOST and "
            "OVERDUE_TEMPORAL_PORT"
        ) from None


def scoped_query(query: str | None, *, running_only: bool = False) -> str:
    """The user's visibility query, limited to the product's workflows (and running ones)."""
    clauses = [WORKFLOW_TYPE_CLAUSE]
    if running_only:
        clauses.append("ExecutionStatus = 'Running'")
    if query is not None and query.strip():
        clauses.append(f"({query.strip()})")
    return " AND ".join(clauses)


def query_error(err: RPCError, query: str | None) -> OpsError:
    """Temporal's answer to a bad visibility query, as the user's mistake; others as failures."""
    if err.status == RPCStatusCode.INVALID_ARGUMENT:
        return OpsError(f"invalid --query {query!r}: {err.message}", exit_code=2)
    return OpsError(f"Temporal refused the query: {err.message}")


def default_actor() -> str:
    """Who is acting, for the workflow's notes and the audit trail: `ops:<login name>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        user = "unknown"
    return f"ops:{user}"[:ACTOR_MAX_LENGTH]


def check_actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > ACTOR_MAX_LENGTH:
        raise OpsError(f"--actor must be 1 to {ACTOR_MAX_LENGTH} characters", exit_code=2)
    return actor
