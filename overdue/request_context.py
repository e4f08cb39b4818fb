"""The id of the HTTP request being served, for every log line written while serving it.

The API's request-id middleware sets it; `RequestIdFilter` (installed on the log handler by
`overdue.logs.configure_logging`) copies it onto each record as `request_id`.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` (the id, or "-" outside a request). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True
