"""The one place a phone number becomes a reference: HMAC-SHA256 of its E.164 form under the
number key from settings (`OVERDUE_PRIVACY_NUMBER_KEY`).

Opt-outs, revocation requests and dial attempts are kept by reference, not by number: the
records must outlive an erased customer (an opt-out is a suppression list the law lets us
keep, a dial attempt counts against the call caps), and a keyed digest cannot be reversed by
hashing every possible number without the key. The same number always gives the same
reference, so a returning number still finds its opt-out.
"""

from __future__ import annotations

import hashlib
import hmac

from overdue.privacy_keys import keyring


def number_ref(phone_e164: str) -> bytes:
    """The number's 32-byte reference."""
    return hmac.new(
        keyring().number_key, b"overdue.number\x00" + phone_e164.encode(), hashlib.sha256
    ).digest()
