"""Evidence files on the hardship and dispute forms: read, checked by content
(`api.selfservice.evidence`), kept sealed (`overdue.store.sealed_files`)."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile

from api.selfservice.evidence import Evidence, check_file
from api.selfservice.forms import Invalid
from api.selfservice.messages import MESSAGES
from api.selfservice.rendering import gettext
from overdue.settings import Settings
from overdue.store import sealed_files
from overdue.store.transactions import Db

__all__ = ["Evidence", "checked_files", "invalid_text", "keep_files"]


async def checked_files(form: FormData, settings: Settings) -> list[Evidence]:
    """The form's files (an empty file input sends a nameless part: no file), each checked."""
    uploads = [f for f in form.getlist("evidence") if isinstance(f, UploadFile) and f.filename]
    if len(uploads) > settings.selfservice_max_files:
        raise Invalid("form.too_many_files")
    limit = settings.selfservice_max_file_bytes
    checked = []
    for upload in uploads:
        content = await upload.read(limit + 1)
        checked.append(check_file(upload.filename or "", upload.content_type or "", content, limit))
    return checked


async def keep_files(db: Db, account_id: str, form_key: str, files: list[Evidence]) -> list[str]:
    return [
        await sealed_files.keep_file(
            db,
            account_id=account_id,
            form_key=form_key,
            content_type=f.content_type,
            content=f.content,
        )
        for f in files
    ]


def invalid_text(lang: str, err: Invalid, settings: Settings) -> str:
    """The refusal's message in the page's language, with its limit filled in."""
    message = MESSAGES[err.key]
    if "%(" not in message:
        return gettext(lang, message)
    if err.key == "file.too_large":
        return gettext(lang, message, max=f"{settings.selfservice_max_file_bytes / 1_048_576:g}")
    return gettext(lang, message, max=settings.selfservice_max_files)
