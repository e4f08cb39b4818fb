"""Log formats: JSON lines with the ids that tie them together, never other `extra` data."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from overdue.logs import build_handler
from overdue.request_context import current_request_id
from workflows.names import workflow_id


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A logger writing through the JSON and the text handlers."""
    as_json, as_text = io.StringIO(), io.StringIO()
    logger = logging.getLogger("tests.ops.logs")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handlers = [build_handler("json", as_json), build_handler("text", as_text)]
    for handler in handlers:
        logger.addHandler(handler)
    yield logger, as_json, as_text
    for handler in handlers:
        logger.removeHandler(handler)


def test_json_lines_carry_ids_from_extra_the_request_and_temporal(
    logged: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, as_json, as_text = logged
    token = current_request_id.set("req-7")
    try:
        logger.info(
            "sms accepted by %s",
            "twilio",
            extra={
                "idempotency_key": "A-1/e/d1_sms/1",
                "temporal_activity": {
                    "workflow_id": workflow_id("A-1"),
                    "workflow_run_id": "run-1",
                    "activity_type": "send_sms",
                    "attempt": 2,
                },
                "phone": "+8613912345678",  # not on the allow-list: never written
                "full_name": "Li Na",
            },
        )
    finally:
        current_request_id.reset(token)
    entry = json.loads(as_json.getvalue())
    assert entry["message"] == "sms accepted by twilio"
    assert (entry["level"], entry["logger"]) == ("INFO", "tests.ops.logs")
    assert entry["request_id"] == "req-7"
    assert (entry["workflow_id"], entry["run_id"]) == (workflow_id("A-1"), "run-1")
    assert (entry["activity_type"], entry["attempt"]) == ("send_sms", 2)
    assert entry["account_id"] == "A-1"  # read off the workflow id
    assert entry["idempotency_key"] == "A-1/e/d1_sms/1"
    assert entry["time"].endswith("+00:00")
    assert "+8613912345678" not in as_json.getvalue() and "Li Na" not in as_json.getvalue()
    # The text format is the readable line it always was.
    assert (
        as_text.getvalue().rstrip().endswith("INFO  tests.ops.logs [req-7]: sms accepted by twilio")
    )


def test_json_lines_outside_requests_and_with_exceptions(
    logged: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, as_json, _ = logged
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed", extra={"account_id": "A-2"})
    entry = json.loads(as_json.getvalue())
    assert "request_id" not in entry and "workflow_id" not in entry
    assert entry["account_id"] == "A-2" and entry["level"] == "ERROR"
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]
    assert sys.exc_info() == (None, None, None)
