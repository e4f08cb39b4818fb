"""Per-request console context (language, login) and the dependencies pages declare.

Pages ask for `SignedIn` (any agent or supervisor), `Supervisor`, or `CsrfForm` (a posted form
whose CSRF token matches the session's). Failures become `LoginRequired` (a redirect to the
login page) or `ConsoleError` (an error page in the user's language).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from api.console import i18n
from api.console.i18n import N_
from api.console.sessions import COOKIE, load_session, tokens_match
from api.dependencies import Services, ServicesDep
from overdue.store.console_sessions import ConsoleSession
from overdue.store.console_users import ConsoleUser

CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: send the browser to the login page."""


# The error pages' messages, by the key pages raise them with (translated on the error page).
ERRORS: dict[str, str] = {
    "error.forbidden": N_("You may not do this."),
    "error.not_found": N_("Not found."),
    "error.csrf": N_("The form expired. Go back, reload the page and try again."),
    "error.claimed_by_other": N_("This task is claimed by another agent."),
    "task.closed": N_("This task is closed; nothing more can be recorded on it."),
}


class ConsoleError(Exception):
    """An error page: HTTP status and the key of its message in `ERRORS`."""

    def __init__(self, status: int, message_key: str) -> None:
        super().__init__(message_key)
        self.status = status
        self.message_key = message_key

    @property
    def message(self) -> str:
        """The message in English (the msgid); the error page translates it."""
        return ERRORS[self.message_key]


@dataclass(frozen=True)
class Console:
    request: Request
    services: Services
    t: i18n.Translator
    session: ConsoleSession | None

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def user(self) -> ConsoleUser:
        if self.session is None:
            raise LoginRequired
        return self.session.user

    @property
    def actor(self) -> str:
        """How the user appears in the audit trail and the workflow (no personal data)."""
        return self.user.username


async def build_console(request: Request, services: Services) -> Console:
    lang = i18n.negotiate(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))
    session = await load_session(services.pool, request.cookies.get(COOKIE))
    return Console(request=request, services=services, t=i18n.Translator(lang), session=session)


async def console(request: Request, services: ServicesDep) -> Console:
    return await build_console(request, services)


AnyVisitor = Annotated[Console, Depends(console)]


async def signed_in(page: AnyVisitor) -> Console:
    if page.session is None:
        raise LoginRequired
    # Its pages name stages: those of versions other API processes started, too.
    await page.services.policy_versions_seen.refresh(page.services.pool)
    return page


SignedIn = Annotated[Console, Depends(signed_in)]


async def supervisor(page: SignedIn) -> Console:
    if not page.user.is_supervisor:
        raise ConsoleError(403, "error.forbidden")
    return page


Supervisor = Annotated[Console, Depends(supervisor)]


async def task_worker(page: SignedIn) -> Console:
    """Agents and supervisors: the pages about accounts' call tasks."""
    if not page.user.works_tasks:
        raise ConsoleError(403, "error.forbidden")
    return page


TaskWorker = Annotated[Console, Depends(task_worker)]


async def mailroom_clerk(page: SignedIn) -> Console:
    """Supervisors and the mailroom role: printing and posting letters."""
    if not page.user.uses_mailroom:
        raise ConsoleError(403, "error.forbidden")
    return page


MailroomClerk = Annotated[Console, Depends(mailroom_clerk)]


async def csrf_form(request: Request, page: SignedIn) -> FormData:
    form = await request.form()
    assert page.session is not None
    token = form.get(CSRF_FIELD)
    if not isinstance(token, str) or not tokens_match(page.session.csrf_token, token):
        raise ConsoleError(403, "error.csrf")
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
