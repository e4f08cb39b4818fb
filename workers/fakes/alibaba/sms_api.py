"""The rules the fake's SendSms and QuerySendDetails answers follow, and its messages.

RPC style, as the SDK sends it: `POST /` with the action in `x-acs-action`, version
2017-05-25, parameters in the query string. Business answers are HTTP 200 with `Code`
("OK" or an `isv.*` code, then nothing was sent); gateway errors are HTTP 4xx / 5xx.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

VERSION = "2017-05-25"
CHINA = ZoneInfo("Asia/Shanghai")
MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
TEMPLATE_CODE = re.compile(r"^SMS_[0-9]{1,20}$")
SEND_DATE = re.compile(r"^[0-9]{8}$")
MAX_PARAM_LENGTH = 35  # a variable's value, as Alibaba limits it for verification-free templates
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class FakeSms:
    biz_id: str
    phone: str  # as sent: 11 digits for the mainland
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    content: str  # 【签名】 + the registered text with the variables filled in
    sent_at: datetime
    status: int = 1  # 1 waiting for the receipt, 2 failed, 3 delivered
    err_code: str = ""
    received_at: datetime | None = None

    @property
    def send_date(self) -> date:
        return self.sent_at.astimezone(CHINA).date()

    def detail(self) -> dict[str, Any]:
        """The message as a QuerySendDetails SmsSendDetailDTO."""
        received = self.received_at.astimezone(CHINA) if self.received_at else None
        return {
            "PhoneNum": self.phone,
            "SendStatus": self.status,
            "ErrCode": self.err_code or ("DELIVERED" if self.status == 3 else ""),
            "TemplateCode": self.template_code,
            "Content": self.content,
            "SendDate": _china_text(self.sent_at),
            "ReceiveDate": received.strftime("%Y-%m-%d %H:%M:%S") if received else "",
            "OutId": self.out_id or "",
        }

    def receipt(self, *, success: bool, err_code: str, err_msg: str) -> dict[str, Any]:
        """The message's delivery receipt, in the SmsReport HTTP push format."""
        return {
            "phone_number": self.phone,
            "send_time": _china_text(self.sent_at),
            "report_time": _china_text(self.received_at or datetime.now(UTC)),
            "success": success,
            "err_code": err_code,
            "err_msg": err_msg,
            "sms_size": "1" if len(self.content) <= 70 else str(-(-len(self.content) // 67)),
            "biz_id": self.biz_id,
            "out_id": self.out_id or "",
        }


def new_biz_id() -> str:
    """A BizId as Alibaba writes them: digits, `^`, a sequence number."""
    return f"{secrets.randbelow(10**18):018d}^0"


def answer(code: str = "OK", message: str = "OK", **fields: Any) -> web.Response:
    """A business answer (HTTP 200)."""
    body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message, **fields}
    return web.json_response(body)


def gateway_error(status: int, code: str, message: str) -> web.Response:
    body = {"RequestId": str(uuid.uuid4()).upper(), "Code": code, "Message": message}
    return web.json_response(body, status=status)


def send_refusal(
    query: dict[str, str], templates: dict[str, str], number_errors: dict[str, str]
) -> tuple[web.Response | None, dict[str, str]]:
    """The answer refusing a SendSms, or None, and its TemplateParam's variables."""
    missing = [n for n in ("PhoneNumbers", "SignName", "TemplateCode") if not query.get(n)]
    if missing:
        return gateway_error(400, "MissingParameter", f"{missing[0]} is mandatory"), {}
    phone, code = query["PhoneNumbers"], query["TemplateCode"]
    if not MAINLAND_MOBILE.fullmatch(phone):
        return answer("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"), {}
    if phone in number_errors:
        return answer(number_errors[phone], "号码被拒绝"), {}
    if not TEMPLATE_CODE.fullmatch(code) or (templates and code not in templates):
        return answer("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"), {}
    try:
        params = json.loads(query.get("TemplateParam") or "{}")
    except json.JSONDecodeError:
        return answer("isv.INVALID_JSON_PARAM", "JSON参数不合法"), {}
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        return answer("isv.INVALID_JSON_PARAM", "JSON参数不合法: 只接受字符串值"), {}
    needed = set(_PLACEHOLDER.findall(templates.get(code, "")))
    if needed - set(params):
        return answer("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量"), {}
    if any(len(v) > MAX_PARAM_LENGTH for v in params.values()):
        return answer("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制"), {}
    return None, params


def content(sign_name: str, text: str, params: dict[str, str]) -> str:
    filled = _PLACEHOLDER.sub(lambda m: params.get(m[1], m[0]), text)
    return f"【{sign_name}】{filled}"


def query_refusal(query: dict[str, str]) -> web.Response | None:
    missing = [
        n for n in ("PhoneNumber", "SendDate", "PageSize", "CurrentPage") if not query.get(n)
    ]
    if missing:
        return gateway_error(400, "MissingParameter", f"{missing[0]} is mandatory")
    if not SEND_DATE.fullmatch(query["SendDate"]):
        return answer("isv.INVALID_PARAMETERS", "SendDate must be yyyyMMdd")
    if not (query["PageSize"].isdigit() and 1 <= int(query["PageSize"]) <= 50):
        return answer("isv.INVALID_PARAMETERS", "PageSize must be 1-50")
    if not (query["CurrentPage"].isdigit() and int(query["CurrentPage"]) >= 1):
        return answer("isv.INVALID_PARAMETERS", "CurrentPage must be 1 or more")
    return None


def details_page(messages: list[FakeSms], query: dict[str, str]) -> web.Response:
    day = datetime.strptime(query["SendDate"], "%Y%m%d").date()
    matching = [
        m
        for m in reversed(messages)
        if m.phone == query["PhoneNumber"]
        and m.send_date == day
        and query.get("BizId", m.biz_id) == m.biz_id
    ]
    size, page = int(query["PageSize"]), int(query["CurrentPage"])
    shown = matching[(page - 1) * size : page * size]
    return answer(
        TotalCount=len(matching),
        SmsSendDetailDTOs={"SmsSendDetailDTO": [m.detail() for m in shown]},
    )


def registered_text(policy_text: str) -> str:
    """A policy text as it is registered at Alibaba: `{name}` becomes `${name}`."""
    return re.sub(r"\{([a-z_]+)\}", r"${\1}", policy_text)


def _china_text(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class NumberRules:
    """Business codes SendSms answers for given numbers (isv.BUSINESS_LIMIT_CONTROL, ...), and
    receipts that end failed for others."""

    send_errors: dict[str, str] = field(default_factory=dict)
    delivery_errors: dict[str, str] = field(default_factory=dict)
