"""Asking for a repayment plan: choose a number of instalments, see the schedule, send it.

The preview is a GET (works without JavaScript, changes nothing); the schedule is computed
again when the request is sent (`workflows.selfservice_requests.schedule`), and the workflow
checks it against the policy's plan limits (a vulnerable customer's included)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from api.console.outcomes import Action
from api.dependencies import ServicesDep
from api.selfservice import access, forms, pages
from api.selfservice.rendering import render
from api.workflow_calls import status_if_running
from workflows.selfservice_requests import instalment_choices, schedule
from workflows.types import AccountStatus

router = APIRouter(prefix="/s", include_in_schema=False)


def _choices(status: AccountStatus, services: ServicesDep) -> list[int]:
    rules = services.policy.hardship
    today = datetime.now(UTC).astimezone(ZoneInfo(status.time_zone)).date()
    return instalment_choices(
        rules.max_instalments,
        rules.max_days,
        status.balance_minor,
        forms.plan_first_day(today),
        today,
    )


@router.get("/{token}/plan")
async def preview(
    request: Request,
    services: ServicesDep,
    token: pages.Token,
    instalments: Annotated[str, Query(max_length=3)] = "",
) -> Response:
    v = await access.visit(request, services, token)
    session = access.signed_in(v)
    status = await status_if_running(services.temporal, v.account_id)
    if status is None:
        return pages.message_page(request, 409, "process.ended")
    choices = _choices(status, services)
    try:
        count = forms.plan_choice({"instalments": instalments}, choices)
    except forms.Invalid:
        return pages.message_page(request, 422, "form.plan_count")
    today = datetime.now(UTC).astimezone(ZoneInfo(status.time_zone)).date()
    plan = schedule(status.balance_minor, count, forms.plan_first_day(today))
    return render(
        request,
        "plan.html",
        path=v.path,
        status=status,
        plan=plan,
        count=count,
        csrf_token=session.csrf_token,
        form_key=access.new_form_key(),
    )


@router.post("/{token}/plan")
async def send_plan(request: Request, services: ServicesDep, token: pages.Token) -> Response:
    def build(form: FormData, status: AccountStatus, key: str) -> Action:
        count = forms.plan_choice(form, _choices(status, services))
        today = datetime.now(UTC).astimezone(ZoneInfo(status.time_zone)).date()
        text = forms.typed_text(form, "plan.note", key)
        return forms.plan_request(status, count, forms.plan_first_day(today), key, text)

    return await pages._submit(request, services, token, build)
