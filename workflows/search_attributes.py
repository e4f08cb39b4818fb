"""Custom search attributes: what ops filter and sort on in the Temporal UI.

None of them may carry personal data. The dev stack registers exactly these; so must any
Temporal cluster the product runs against (see docs/operations.md).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

OVERDUE_STATE = SearchAttributeKey.for_keyword("OverdueState")
OVERDUE_STAGE = SearchAttributeKey.for_keyword("OverdueStage")
DAYS_PAST_DUE = SearchAttributeKey.for_int("DaysPastDue")
AMOUNT_DUE_MINOR = SearchAttributeKey.for_int("AmountDueMinor")
NEXT_ACTION_AT = SearchAttributeKey.for_datetime("NextActionAt")
PRODUCT = SearchAttributeKey.for_keyword("Product")

ALL = (OVERDUE_STATE, OVERDUE_STAGE, DAYS_PAST_DUE, AMOUNT_DUE_MINOR, NEXT_ACTION_AT, PRODUCT)
