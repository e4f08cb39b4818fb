"""SMS through Twilio's Messages API, with the official SDK and its async HTTP client.

Twilio has no idempotency key for creating a message, so the activity reconciles an attempt
whose outcome is unknown with `find`: the account's messages to the same number, created since
the ledger row, with the same body. The body is rendered once and kept in the ledger row, so a
retry sends, and looks for, exactly the same text. `find` answers candidates; the activity
adopts the newest one no other ledger row owns (a unique index on the provider id), so two
keys with identical text to one number still get one message each.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from activities import twilio_errors
from activities.sms_types import OutboundSms, SentSms, SmsNotSent, SmsOutcomeUnknown
from overdue.settings import TwilioConfig

logger = logging.getLogger(__name__)

# Messages Twilio stamps with a date a little off our clock are still candidates.
CLOCK_SKEW = timedelta(minutes=5)
# How far back a reconciliation pages through one number's messages (newest first).
LOOKUP_LIMIT = 200
# After the request timeout, how long Twilio's message list may take to show a new message.
LIST_SETTLE = timedelta(seconds=10)


class _RoutedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's async client, sent to the configured origin, with a timeout on every call.

    Its own request log would print query strings, and a message list's query is the phone
    number: this one logs the method and path only.
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout, logger=logger)
        self._origin = urlsplit(api_base)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # the SDK's signature
        allow_redirects: bool = False,
    ) -> Any:
        routed = urlsplit(url)._replace(scheme=self._origin.scheme, netloc=self._origin.netloc)
        return await super().request(
            method,
            urlunsplit(routed),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            # The SDK passes no timeout; aiohttp's default is five minutes.
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )

    def log_request(self, kwargs: dict[str, Any]) -> None:
        logger.debug("twilio request %s %s", kwargs["method"], urlsplit(kwargs["url"]).path)

    def log_response(self, status_code: int, response: Any) -> None:
        logger.debug("twilio answered HTTP %s", status_code)


class TwilioSmsSender:
    name = "twilio"

    def __init__(self, config: TwilioConfig, *, list_settle: timedelta = LIST_SETTLE) -> None:
        self._config = config
        self._http = _RoutedHttpClient(config.api_base, config.timeout_seconds)
        self._client = Client(config.account_sid, config.auth_token, http_client=self._http)
        self.reconcile_after = timedelta(seconds=config.timeout_seconds) + list_settle

    async def send(self, message: OutboundSms) -> SentSms:
        config = self._config
        try:
            created = await self._client.messages.create_async(
                to=message.to,
                body=message.body,
                from_=config.from_ or values.unset,
                messaging_service_sid=config.messaging_service_sid or values.unset,
                status_callback=f"{config.status_callback_url}?ref={message.reference}",
                validity_period=config.validity_period_seconds,
            )
        except TwilioRestException as err:
            raise twilio_errors.classify(err.status, _int(err.code), err.msg) from None
        except aiohttp.ClientConnectorError:
            # The connection never opened, so the request never left.
            raise SmsNotSent("Twilio is unreachable (connection failed)") from None
        except (aiohttp.ClientError, TimeoutError) as err:
            # Chained causes would reach the workflow's history; the type name is enough.
            raise SmsOutcomeUnknown(
                f"no answer from Twilio ({type(err).__name__})", code="no_answer"
            ) from None
        return SentSms(provider=self.name, provider_id=created.sid, status=str(created.status))

    async def find(self, message: OutboundSms, since: datetime) -> list[SentSms]:
        cutoff = since - CLOCK_SKEW
        found: list[tuple[datetime, SentSms]] = []
        try:
            stream = await self._client.messages.stream_async(
                to=message.to,
                from_=self._config.from_ or values.unset,
                limit=LOOKUP_LIMIT,
                page_size=50,
            )
            async for sent in stream:
                created_at = sent.date_created
                if created_at is None or created_at < cutoff or sent.body != message.body:
                    continue
                found.append(
                    (
                        created_at,
                        SentSms(provider=self.name, provider_id=sent.sid, status=str(sent.status)),
                    )
                )
        except TwilioRestException as err:
            raise SmsNotSent(
                f"could not list messages at Twilio (HTTP {err.status})", code=f"http_{err.status}"
            ) from None
        except (TwilioException, aiohttp.ClientError, TimeoutError) as err:
            raise SmsNotSent(
                f"could not list messages at Twilio ({type(err).__name__})", code="no_answer"
            ) from None
        found.sort(key=lambda item: item[0], reverse=True)
        return [sent for _, sent in found]

    async def close(self) -> None:
        await self._http.close()


def _int(code: object) -> int | None:
    try:
        return int(str(code))
    except ValueError:
        return None
