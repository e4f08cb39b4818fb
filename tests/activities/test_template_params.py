"""A registered template's variables are recovered from the body the ledger keeps."""

from __future__ import annotations

from datetime import date

from activities.template_params import rendered_params, template_messages
from activities.templates import render
from workflows.contact_types import SendSmsInput
from workflows.provider_templates import RegisteredTemplate

TEXTS = {
    "zh-CN": "{name}您好，您于{due_date}到期的{amount}{currency}尚未还款，"  # noqa: RUF001
    "{name}请留意。回复TD退订。",
    "en": "Hello {name}, {amount} {currency} is {days_past_due} days overdue. "
    "Reply STOP to opt out.",
}
ZH = RegisteredTemplate(sign_name="逾期提醒", template_code="SMS_900000003")


def sms(registered: dict[str, dict[str, RegisteredTemplate]] | None) -> SendSmsInput:
    return SendSmsInput(
        idempotency_key="a/e/s/1",
        account_id="a",
        stage_id="s",
        template_id="t",
        templates=TEXTS,
        default_locale="en",
        amount_minor=1_234_56,
        currency="CNY",
        due_date=date(2026, 11, 20),
        days_past_due=4,
        registered=registered,
    )


def body(locale: str, name: str) -> str:
    return render(
        TEXTS[locale],
        name=name,
        amount_minor=1_234_56,
        currency="CNY",
        due_date=date(2026, 11, 20),
        days_past_due=4,
    )


def test_the_variables_are_the_texts_placeholders_with_the_rendered_values() -> None:
    messages = template_messages(sms({"alibaba": {"zh-CN": ZH}}), body("zh-CN", "张三"))
    message = messages["alibaba"]
    assert (message.sign_name, message.template_code) == ("逾期提醒", "SMS_900000003")
    assert message.params == {
        "name": "张三",
        "due_date": "2026-11-20",
        "amount": "1234.56",
        "currency": "CNY",
    }


def test_the_name_is_the_stored_ones_even_if_it_looks_like_the_text() -> None:
    tricky = "您好，王{五}"  # noqa: RUF001
    locale, params = rendered_params(sms(None), body("zh-CN", tricky)) or ("", {})
    assert (locale, params["name"]) == ("zh-CN", tricky)


def test_the_locale_is_the_one_the_body_was_rendered_in() -> None:
    assert rendered_params(sms(None), body("en", "Li Na")) == (
        "en",
        {"name": "Li Na", "amount": "1234.56", "currency": "CNY", "days_past_due": "4"},
    )


def test_no_mapping_for_the_rendered_locale_means_no_template_message() -> None:
    assert template_messages(sms({"alibaba": {"zh-CN": ZH}}), body("en", "Li Na")) == {}
    assert template_messages(sms(None), body("zh-CN", "张三")) == {}


def test_a_body_no_text_renders_to_has_no_variables() -> None:
    assert rendered_params(sms(None), "Hello, something else entirely") is None


def test_the_itemization_placeholders_render_and_are_recovered() -> None:
    from workflows.forbearance_types import Fee, Itemization

    items = Itemization(
        principal_minor=1_100_00,
        interest_minor=84_56,
        fees=(Fee(kind="late_fee", amount_minor=50_00), Fee(kind="sms_fee", amount_minor=10_00)),
        payments_minor=10_00,
    )
    text = "本金{principal}，利息{interest}，费用{fees}，已还{payments}。回复TD退订"  # noqa: RUF001
    kwargs = {
        "name": "x",
        "amount_minor": 1_234_56,
        "currency": "CNY",
        "due_date": date(2026, 11, 20),
        "days_past_due": 4,
    }
    said = render(text, itemization=items, **kwargs)  # type: ignore[arg-type]
    assert said == "本金1100.00，利息84.56，费用60.00，已还10.00。回复TD退订"  # noqa: RUF001
    assert render(text, **kwargs).startswith("本金-，利息-")  # type: ignore[arg-type]  # noqa: RUF001
    input = sms({"alibaba": {"zh-CN": ZH}}).model_copy(
        update={"templates": {"zh-CN": text}, "itemization": items}
    )
    params = template_messages(input, said)["alibaba"].params
    assert params == {
        "principal": "1100.00",
        "interest": "84.56",
        "fees": "60.00",
        "payments": "10.00",
    }
