"""Agents open the evidence files a borrower uploaded (docs/self-service.md): only from a task
on that account they may see, and every opening is recorded in the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from api.console.context import ConsoleError, TaskWorker
from api.console.task_pages import TaskId, _task_for
from overdue.store import sealed_files
from overdue.store.audit import record_event

router = APIRouter(prefix="/console", include_in_schema=False)
FileId = Annotated[str, Path(pattern=r"^ev-[0-9a-f]{32}$")]


@router.get("/tasks/{task_id}/evidence/{file_id}")
async def evidence_file(page: TaskWorker, task_id: TaskId, file_id: FileId) -> Response:
    task = await _task_for(page, task_id, acting=False)
    async with page.services.pool.acquire() as conn, conn.transaction():
        opened = await sealed_files.open_file(conn, task.account_id, file_id)
        if opened is None:
            raise ConsoleError(404, "error.not_found")
        await record_event(
            conn,
            account_id=task.account_id,
            actor=page.actor,
            kind="selfservice.evidence_viewed",
            details={"task_id": task.id, "file_id": file_id},
        )
    content_type, content = opened
    return Response(
        content,
        media_type=content_type,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'inline; filename="{file_id}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
