"""Alibaba Cloud SMS delivery receipts (SmsReport, by HTTP push).

Alibaba pushes a JSON array of reports to a URL configured in its console; it cannot sign the
push or add headers, so the URL carries a shared secret: `?token=<OVERDUE_ALIBABA_RECEIPT_TOKEN>`
(compared in constant time; the API never logs query strings). A wrong token is 403, an unset
one 503, and either changes nothing. Each report moves its ledger row forward (delivered, or
undelivered with the carrier's code); repeated and late reports are harmless. The answer is
`{"code": 0, "msg": "成功"}`, which tells Alibaba not to push the batch again. No phone number
is logged.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Body, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.dependencies import ServicesDep
from api.problems import Problem, unavailable
from overdue.inputs import ledger_ref
from overdue.store.alibaba_receipts import apply_receipt

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/alibaba", tags=["webhooks"])

MAX_REPORTS = 100  # Alibaba batches receipts; a bigger body is not one of its pushes


class SmsReport(BaseModel):
    """One delivery receipt, as Alibaba pushes it (fields it adds later are ignored)."""

    model_config = ConfigDict(extra="ignore")

    phone_number: str = Field(pattern=r"^[0-9]{6,15}$")
    success: bool
    biz_id: str = Field(pattern=r"^[0-9]{1,32}\^[0-9]{1,10}$")
    out_id: str = Field(default="", max_length=20, description="Our ledger row id.")
    err_code: str = Field(default="", pattern=r"^[A-Za-z0-9_.:-]{0,64}$")
    err_msg: str = Field(default="", max_length=200)
    send_time: str | None = None
    report_time: str | None = None
    sms_size: str | None = None


class ReceiptAnswer(BaseModel):
    code: int = Field(description="0: received; Alibaba pushes again otherwise.")
    msg: str


@router.post("/receipts", status_code=status.HTTP_200_OK, summary="Alibaba SMS delivery receipts")
async def receipts(
    services: ServicesDep,
    reports: Annotated[list[SmsReport], Body(max_length=MAX_REPORTS)],
    token: Annotated[
        str, Query(max_length=200, description="The shared receipt token (see module doc).")
    ] = "",
) -> ReceiptAnswer:
    """Move each report's ledger row forward; an older or repeated report changes nothing."""
    expected = services.settings.alibaba_receipt_token
    if expected is None:
        raise unavailable(
            "Receipts not configured", "set OVERDUE_ALIBABA_RECEIPT_TOKEN to accept receipts"
        )
    if not hmac.compare_digest(token.encode(), expected.get_secret_value().encode()):
        raise Problem(403, "Forbidden", "the receipt URL's token is not this deployment's")
    references = [ledger_ref(r.out_id) if r.out_id else None for r in reports]
    for report, reference in zip(reports, references, strict=True):
        if report.out_id and reference is None:
            raise Problem(
                422,
                "Invalid request",
                "out_id: must be a ledger row id (ASCII digits, within bigint)",
                errors=[{"field": "out_id", "in": "body", "reason": "not a ledger row id"}],
            )
    async with services.pool.acquire() as conn:
        for report, reference in zip(reports, references, strict=True):
            result = await apply_receipt(
                conn,
                biz_id=report.biz_id,
                reference=reference,
                delivered=report.success,
                error_code=report.err_code or None,
            )
            logger.info(
                "alibaba receipt %s: %s",
                "delivered" if report.success else "failed",
                result.value,
                extra={"biz_id": report.biz_id, "error_code": report.err_code or None},
            )
    return ReceiptAnswer(code=0, msg="成功")
