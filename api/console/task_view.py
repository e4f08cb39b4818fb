"""How the console shows what it reads (`overdue.store.agent_desk`): the phone, masked."""

from __future__ import annotations

import phonenumbers


def mask_phone(e164: str | None) -> str:
    """'+8613800138000' -> '+86 *******8000': the country code and the last four digits."""
    if not e164:
        return "—"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "****"
    national = str(number.national_number)
    return f"+{number.country_code} {'*' * max(len(national) - 4, 0)}{national[-4:]}"
