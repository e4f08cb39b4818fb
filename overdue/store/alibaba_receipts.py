"""An Alibaba delivery receipt (SmsReport) applied to its ledger row.

The receipt names both the message's BizId and our OutId (the ledger row id). The row is found
by the BizId, or by the OutId while the row does not know its BizId yet: the receipt outran the
activity recording it, or reconciliation adopted the message from QuerySendDetails, which does
not say BizIds, and recorded `out:<row id>` (activities.alibaba_sender). The BizId replaces
either; then the status only moves forward, so repeated and late receipts change nothing.
"""

from __future__ import annotations

import asyncpg

from overdue.store.sms_ledger import CALLBACK_COLUMNS, CallbackResult, adopt_and_advance

PROVIDER = "alibaba"
OUT_ID_PREFIX = "out:"


async def apply_receipt(
    conn: asyncpg.Connection,
    *,
    biz_id: str,
    reference: int | None,
    delivered: bool,
    error_code: str | None,
) -> CallbackResult:
    async with conn.transaction():
        row = await conn.fetchrow(
            f"""
            SELECT {CALLBACK_COLUMNS}
              FROM contact_ledger
             WHERE (provider = $1 AND provider_id = $2)
                OR (id = $3 AND provider = $1 AND channel = 'sms'
                    AND (provider_id IS NULL OR provider_id = $4 || $3::text))
             ORDER BY provider_id = $2 DESC LIMIT 1 FOR UPDATE
            """,
            PROVIDER,
            biz_id,
            reference,
            OUT_ID_PREFIX,
        )
        if row is None:
            return CallbackResult.UNKNOWN_MESSAGE
        return await adopt_and_advance(
            conn,
            row,
            provider=PROVIDER,
            provider_id=biz_id,
            status="delivered" if delivered else "undelivered",
            error_code=None if delivered else error_code,
        )
