"""The status callback's `?ref=` (our ledger row id in the callback URL): ASCII digits within
bigint only, refused with 422 before any database call otherwise (issue 13)."""

from __future__ import annotations

import pytest

from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.test_twilio_webhooks import (
    STATUS_PATH,
    new_sid,
    post_signed,
    sent_sms_row,
    status_params,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "ref",
    ["9223372036854775808", "%D9%A1", "%EF%BC%91", "-1", "1.0", "+1", "%201", ""],
    ids=[
        "past-bigint",
        "arabic-indic-one",
        "fullwidth-one",
        "negative",
        "decimal",
        "plus",
        "space",
        "empty",
    ],
)
async def test_a_ref_that_is_not_ascii_digits_within_bigint_is_refused(
    twilio_stack: TwilioStack, ref: str
) -> None:
    ledger_id, _ = await sent_sms_row(twilio_stack)
    before = await twilio_stack.pool.fetchrow(
        "SELECT status, provider_id FROM contact_ledger WHERE id = $1", ledger_id
    )
    code, text = await post_signed(
        twilio_stack, f"{STATUS_PATH}?ref={ref}", status_params(new_sid(), "delivered")
    )
    assert code == 422, text
    assert '"ref"' in text
    after = await twilio_stack.pool.fetchrow(
        "SELECT status, provider_id FROM contact_ledger WHERE id = $1", ledger_id
    )
    assert after == before


async def test_the_largest_ref_is_looked_up_not_a_500(twilio_stack: TwilioStack) -> None:
    code, text = await post_signed(
        twilio_stack, f"{STATUS_PATH}?ref=9223372036854775807", status_params(new_sid(), "sent")
    )
    assert code == 204, text
