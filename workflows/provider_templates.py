"""Templates registered with an SMS provider that sends no free text.

A domestic CN provider (Alibaba Cloud SMS) sends only a registered signature (签名) and a
pre-approved template code (模板CODE), with the template's variables filled in: the policy
maps each of its SMS templates, per locale, to what is registered there. The registered text
is the policy's text with `${name}` for `{name}` (the same placeholders are the variables), so
the message the customer gets is the text the ledger keeps. Pure data; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Providers a policy can map its templates for.
TemplateProvider = Literal["alibaba"]


class RegisteredTemplate(BaseModel):
    """One template as registered at the provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sign_name: str = Field(
        min_length=2, max_length=12, description="The approved signature (签名), 2-12 characters."
    )
    template_code: str = Field(
        pattern=r"^SMS_[0-9]{1,20}$", description="The approved template code (SMS_...)."
    )


# template id -> locale -> the registered template for that text
ProviderMapping = dict[str, dict[str, RegisteredTemplate]]


def provider_templates_problem(
    templates: Mapping[str, Mapping[str, str]],
    providers: Mapping[TemplateProvider, ProviderMapping],
) -> str | None:
    """Why a policy's provider mappings do not fit its templates, or None.

    Every mapped template and locale must have a text: a code registered for a text the policy
    does not have would send something the ledger never shows.
    """
    for provider, mapping in providers.items():
        for template_id, locales in mapping.items():
            texts = templates.get(template_id)
            if texts is None:
                return f"provider_templates.{provider}: unknown template {template_id!r}"
            for locale in locales:
                if locale not in texts:
                    return (
                        f"provider_templates.{provider}.{template_id}: no {locale!r} text in "
                        f"templates.{template_id} for this code"
                    )
    return None


def registered_for(
    providers: Mapping[TemplateProvider, ProviderMapping], template_id: str
) -> dict[str, dict[str, RegisteredTemplate]] | None:
    """provider -> locale -> registered template, for one template id; None when unmapped
    (so an SMS input of a policy without mappings is what it was before they existed)."""
    found: dict[str, dict[str, RegisteredTemplate]] = {
        p: dict(m[template_id]) for p, m in providers.items() if template_id in m
    }
    return found or None
