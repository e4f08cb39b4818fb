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
# The policy a process started on, `id@version` (an experiment's arm shows here). Set by the
# API's start only: the workflow never upserts it, so recorded histories replay unchanged.
# The dev server (SQLite visibility) takes 10 custom Keyword attributes; this is the 4th.
POLICY_ID = SearchAttributeKey.for_keyword("PolicyId")
# Local midnight of the due date in the customer's time zone, set once at the start: days past
# due is derived from it at query time (`DueDate <= now - N days`), so it costs no upsert a day.
# Processes started before release cost-2026-12 keep DaysPastDue and NextActionAt current
# instead (workflows/publishing.py); the API's filters read both.
DUE_DATE = SearchAttributeKey.for_datetime("DueDate")

ALL = (
    OVERDUE_STATE,
    OVERDUE_STAGE,
    DAYS_PAST_DUE,
    AMOUNT_DUE_MINOR,
    NEXT_ACTION_AT,
    PRODUCT,
    POLICY_ID,
    DUE_DATE,
)


def policy_id_value(policy_id: str, version: int) -> str:
    """The `PolicyId` search attribute's value for a policy (no personal data)."""
    return f"{policy_id}@{version}"
