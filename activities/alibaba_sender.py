"""SMS through Alibaba Cloud SMS (dysmsapi 2017-05-25), with the official SDK.

A CN message goes as a registered signature and template code with the template's variables
(`OutboundSms.templates["alibaba"]`), never as free text; without a mapping it is refused.

Alibaba has no idempotency key either. Every message carries `OutId` = our ledger row id, so
after an attempt whose outcome is unknown, `find` asks QuerySendDetails for the number's
messages of each day since the row was written (China time) and picks the one with our OutId.
QuerySendDetails does not say a message's BizId: an adopted message is recorded as
`out:<row id>` until its delivery receipt (which carries both) names it (api/alibaba_receipts).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.exceptions import UnretryableException

from activities import alibaba_errors
from activities.sms_types import (
    OutboundSms,
    Refusal,
    SentSms,
    SmsNotSent,
    SmsOutcomeUnknown,
    SmsRefused,
)
from overdue.settings_alibaba import AlibabaConfig

# provider_id of a message adopted before its receipt named its BizId
from overdue.store.alibaba_receipts import OUT_ID_PREFIX

logger = logging.getLogger(__name__)

NAME = "alibaba"

CHINA = ZoneInfo("Asia/Shanghai")  # SendDate is a day in China time
CLOCK_SKEW = timedelta(minutes=5)
PAGE_SIZE = 50  # QuerySendDetails' largest page
MAX_PAGES = 4
# After the request timeout, how long QuerySendDetails may take to show a new message.
LIST_SETTLE = timedelta(seconds=10)
# SendStatus of QuerySendDetails: 1 waiting for the receipt, 2 failed, 3 delivered.
_SEND_STATUS = {1: "sent", 2: "failed", 3: "delivered"}


def provider_number(e164: str) -> str:
    """A number as Alibaba takes it: 11 digits for the mainland, else country code + number."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


class AlibabaSmsSender:
    name = NAME

    def __init__(self, config: AlibabaConfig, *, list_settle: timedelta = LIST_SETTLE) -> None:
        self._timeout = config.timeout_seconds
        millis = int(config.timeout_seconds * 1000)
        self._client = Client(
            utils_models.Config(
                access_key_id=config.access_key_id,
                access_key_secret=config.access_key_secret,
                endpoint=config.endpoint,
                protocol=config.protocol,
                read_timeout=millis,
                connect_timeout=millis,
            )
        )
        self.reconcile_after = timedelta(seconds=config.timeout_seconds) + list_settle

    async def send(self, message: OutboundSms) -> SentSms:
        template = message.templates.get(NAME)
        if template is None:
            raise SmsRefused(
                "the policy maps no Alibaba template for this text (CN SMS go only as a "
                "registered sign name and template code)",
                refusal=Refusal.OTHER,
                code=alibaba_errors.TEMPLATE_NOT_REGISTERED,
                provider_message=None,
            )
        request = models.SendSmsRequest(
            phone_numbers=provider_number(message.to),
            sign_name=template.sign_name,
            template_code=template.template_code,
            template_param=json.dumps(template.params, ensure_ascii=False),
            out_id=message.reference,
        )
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._client.send_sms_async(request)
        except AlibabaCloudException as err:
            raise alibaba_errors.classify_http(err.status_code, err.code) from None
        except (UnretryableException, TimeoutError) as err:
            # The SDK wraps every transport failure; a reset or a timeout can come after the
            # message was created. The type name only: chained causes reach the history.
            raise SmsOutcomeUnknown(
                f"no answer from Alibaba ({type(_inner(err)).__name__})", code="no_answer"
            ) from None
        body = answer.body
        if body is None or body.code != "OK":
            code = (body.code if body is not None else None) or "no_code"
            raise alibaba_errors.classify_code(code, body.message if body else None)
        if not body.biz_id:  # accepted, but which message is unknown: the lookup tells
            raise SmsOutcomeUnknown("Alibaba answered OK without a BizId", code="no_biz_id")
        return SentSms(provider=NAME, provider_id=body.biz_id, status="sent")

    async def find(self, message: OutboundSms, since: datetime) -> list[SentSms]:
        found: list[SentSms] = []
        for day in _days(since - CLOCK_SKEW, datetime.now(UTC) + CLOCK_SKEW):
            for dto in await self._day(message.to, day):
                if dto.out_id == message.reference:
                    status = _SEND_STATUS.get(int(dto.send_status or 1), "sent")
                    found.append(
                        SentSms(NAME, f"{OUT_ID_PREFIX}{message.reference}", status=status)
                    )
        return found[:1]  # one OutId, one row: a second would be ours too (never expected)

    async def _day(
        self, to: str, day: date
    ) -> list[models.QuerySendDetailsResponseBodySmsSendDetailDTOsSmsSendDetailDTO]:
        details = []
        for page in range(1, MAX_PAGES + 1):
            request = models.QuerySendDetailsRequest(
                phone_number=provider_number(to),
                send_date=day.strftime("%Y%m%d"),
                page_size=PAGE_SIZE,
                current_page=page,
            )
            try:
                async with asyncio.timeout(self._timeout):
                    answer = await self._client.query_send_details_async(request)
            except AlibabaCloudException as err:
                raise SmsNotSent(
                    f"could not query messages at Alibaba (HTTP {err.status_code}, {err.code})",
                    code=f"http_{err.status_code}",
                ) from None
            except (UnretryableException, TimeoutError) as err:
                raise SmsNotSent(
                    f"could not query messages at Alibaba ({type(_inner(err)).__name__})",
                    code="no_answer",
                ) from None
            body = answer.body
            if body is None or body.code != "OK":
                code = (body.code if body is not None else None) or "no_code"
                raise SmsNotSent(f"Alibaba refused the query ({code})", code=code)
            dtos = body.sms_send_detail_dtos
            batch = list(dtos.sms_send_detail_dto or []) if dtos is not None else []
            details.extend(batch)
            if len(batch) < PAGE_SIZE or page * PAGE_SIZE >= int(body.total_count or 0):
                break
        return details

    async def close(self) -> None:
        pass  # the SDK opens a session per call


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.astimezone(CHINA).date(), end.astimezone(CHINA).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _inner(err: BaseException) -> BaseException:
    return getattr(err, "inner_exception", None) or err
