"""The mailroom: the letters letter stages rendered, by status (to print, printed, sent), with
the marks staff set as they print and post them, and each PDF to download.

Supervisors and the mailroom role (a clerk who prints and posts letters, and sees no account's
call tasks: migration 0025). Every mark and every download is audited with who and when
(`letter.printed`, `letter.sent`, `letter.downloaded`); marks are forms with the session's CSRF
token, like every other console form, and only move a letter forward.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from api.console.context import Console, ConsoleError, CsrfForm, MailroomClerk
from api.console.rendering import SECURITY_HEADERS, render
from api.console.words import in_words
from overdue.store import letters
from overdue.store.letters import LetterFilter, LetterStatus, MailroomMark, MarkRefused
from workflows.types import ACCOUNT_ID_PATTERN

router = APIRouter(prefix="/console/mailroom", include_in_schema=False)
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE_SIZE = 200
STAGE_ID_PATTERN = r"^[a-z0-9][a-z0-9_]{0,62}$"
_EMPTY_OR = "^$|"  # the filter form sends its empty fields


@router.get("")
async def mailroom(
    page: MailroomClerk,
    status: Annotated[LetterStatus | None, Query()] = "to_print",
    account: Annotated[str | None, Query(pattern=_EMPTY_OR + ACCOUNT_ID_PATTERN)] = None,
    stage: Annotated[str | None, Query(pattern=_EMPTY_OR + STAGE_ID_PATTERN)] = None,
    every: Annotated[bool, Query()] = False,
) -> Response:
    """The letters with one status (to print by default; `every`: all of them), oldest first,
    optionally of one account or stage (a field left empty in the filter form: any)."""
    shown = LetterFilter(
        status=None if every else status,
        account_id=account or None,
        stage_id=stage or None,
        limit=PAGE_SIZE,
    )
    return await _render(page, shown)


async def _render(
    page: Console, shown: LetterFilter, *, answer: dict[str, Any] | None = None, code: int = 200
) -> Response:
    pool = page.services.pool
    return render(
        page,
        "mailroom.html",
        code,
        letters=await letters.listed(pool, shown),
        counts=await letters.counts(pool),
        shown=shown,
        statuses=letters.STATUSES,
        page_size=PAGE_SIZE,
        answer=answer,
    )


@router.post("/{letter_id}/printed")
async def mark_printed(page: MailroomClerk, letter_id: LetterId, _form: CsrfForm) -> Response:
    return await _mark(page, letter_id, "printed")


@router.post("/{letter_id}/sent")
async def mark_sent(page: MailroomClerk, letter_id: LetterId, _form: CsrfForm) -> Response:
    return await _mark(page, letter_id, "sent")


async def _mark(page: Console, letter_id: int, to: MailroomMark) -> Response:
    back = LetterFilter(status="to_print" if to == "printed" else "printed", limit=PAGE_SIZE)
    try:
        marked = await letters.mark(page.services.pool, letter_id, to, page.actor)
    except MarkRefused as refused:
        message = page.t.gettext(
            "Letter %(ref)s is %(status)s: nothing was changed.",
            ref=refused.letter.ref,
            status=in_words(page.t, "letter_status", refused.letter.status),
        )
        return await _render(page, back, answer={"ok": False, "message": message}, code=409)
    if marked is None:
        raise ConsoleError(404, "error.not_found")
    message = page.t.gettext(
        "Letter %(ref)s is now: %(status)s.",
        ref=marked.ref,
        status=in_words(page.t, "letter_status", marked.status),
    )
    return await _render(page, back, answer={"ok": True, "message": message})


@router.get("/{letter_id}/pdf")
async def download(page: MailroomClerk, letter_id: LetterId) -> Response:
    """The letter's PDF, as an attachment, audited `letter.downloaded`; 404 for an unknown
    letter or one whose account was erased (its PDF is gone)."""
    pool = page.services.pool
    letter = await letters.by_id(pool, letter_id)
    pdf = None if letter is None else await letters.pdf_for_download(pool, letter, page.actor)
    if letter is None or pdf is None:
        raise ConsoleError(404, "error.not_found")
    name = f"letter-{letter.ref}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )
