"""Rendering message templates in the customer's locale."""

from __future__ import annotations

from datetime import date

from temporalio.exceptions import ApplicationError

import workflows.policy_shelf as policy_shelf
from workflows.contact_types import SendSmsInput
from workflows.currencies import format_minor
from workflows.forbearance_types import Itemization
from workflows.provider_templates import registered_for

# The itemization's placeholders (workflows.policy.TEMPLATE_FIELDS): amounts as `amount` is
# written; without an itemization (none reported) each reads NOT_ITEMIZED.
ITEMIZED_FIELDS = ("principal", "interest", "fees", "payments")
NOT_ITEMIZED = "-"

TEMPLATE_ERROR = "TemplateError"  # a non-retryable ApplicationError type


def itemized_values(itemization: Itemization | None, currency: str) -> dict[str, str]:
    if itemization is None:
        return dict.fromkeys(ITEMIZED_FIELDS, NOT_ITEMIZED)
    minor = (
        itemization.principal_minor,
        itemization.interest_minor,
        sum(f.amount_minor for f in itemization.fees),
        itemization.payments_minor,
    )
    return {f: format_minor(m, currency) for f, m in zip(ITEMIZED_FIELDS, minor, strict=True)}


def with_policy_texts(input: SendSmsInput) -> SendSmsInput:
    """An SMS input that names its policy by digest, with its template's texts and provider
    registrations from that version (the worker's codec shelved it before the activity ran);
    an input that carries them is returned as it is."""
    if input.policy_ref is None:
        return input
    policy = policy_shelf.take(input.policy_ref.digest)
    if policy is None:  # retried: the codec reads it from Postgres on the next attempt
        raise RuntimeError(f"policy version {input.policy_ref.digest} is not on the shelf")
    return input.model_copy(
        update={
            "templates": policy.templates[input.template_id],
            "registered": registered_for(policy.provider_templates, input.template_id),
        }
    )


def pick_locale(texts: dict[str, str], locale: str, default_locale: str) -> str:
    """Exact locale, then its language ('zh-CN' -> 'zh'), then the policy's default."""
    if locale in texts:
        return locale
    language = locale.split("-")[0].lower()
    for candidate in texts:
        if candidate.split("-")[0].lower() == language:
            return candidate
    return default_locale


def render(
    text: str,
    *,
    name: str,
    amount_minor: int,
    currency: str,
    due_date: date,
    days_past_due: int,
    itemization: Itemization | None = None,
    link: str = "",
) -> str:
    return text.format(
        name=name,
        amount=format_minor(amount_minor, currency),
        currency=currency,
        due_date=due_date.isoformat(),
        days_past_due=days_past_due,
        **itemized_values(itemization, currency),
        link=link,
    )


def render_sms(input: SendSmsInput, name: str, customer_locale: str, link: str) -> str:
    """The SMS body in the customer's locale (or the template's default); a template that
    cannot give one is a non-retryable `TemplateError`: no retry can mend it."""
    locale = pick_locale(input.templates, customer_locale, input.default_locale)
    text = input.templates.get(locale)
    if text is None:
        raise ApplicationError(
            f"template {input.template_id!r} has no text for locale {locale!r}",
            type=TEMPLATE_ERROR,
            non_retryable=True,
        )
    try:
        body = render(
            text,
            name=name,
            amount_minor=input.amount_minor,
            currency=input.currency,
            due_date=input.due_date,
            days_past_due=input.days_past_due,
            itemization=input.itemization,
            link=link,
        )
    except (KeyError, IndexError, ValueError) as err:
        raise ApplicationError(
            f"template {input.template_id!r} ({locale}) cannot be rendered: "
            f"{type(err).__name__} {err}",
            type=TEMPLATE_ERROR,
            non_retryable=True,
        ) from None
    if not body.strip():
        raise ApplicationError(
            f"template {input.template_id!r} ({locale}) renders an empty message",
            type=TEMPLATE_ERROR,
            non_retryable=True,
        )
    return body
