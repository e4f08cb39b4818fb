"""Metric helpers and the endpoint's set-up, without servers."""

from __future__ import annotations

import logging
import socket
import urllib.request

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from overdue.metrics import (
    SENT_AT_HEADER,
    build_runtime,
    is_new_contact,
    provider_error_code,
    sent_at_header,
    stage_label,
)
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from workflows.contact_types import CreateCallTaskResult, NotifyResult, SendSmsResult


def test_stage_labels_stay_a_bounded_set() -> None:
    assert stage_label("d1_sms") == "d1_sms"
    assert stage_label("plan_instalment_12") == "plan_instalment"
    assert stage_label("d1_sms_fallback") == "d1_sms_fallback"


def test_provider_codes_from_the_activities_error_details() -> None:
    assert provider_error_code(ApplicationError("x", {"error_code": "21610"})) == "21610"
    assert provider_error_code(ApplicationError("x", {"status_code": 503})) == "http_503"
    assert provider_error_code(ApplicationError("x", {"error_code": None})) is None
    assert provider_error_code(ApplicationError("no details", type="TemplateError")) is None


def test_only_new_contacts_count() -> None:
    sms = SendSmsResult(idempotency_key="k", status="sent", provider_id="p", already_sent=False)
    assert is_new_contact(sms)
    assert not is_new_contact(sms.model_copy(update={"already_sent": True}))
    assert is_new_contact(CreateCallTaskResult(task_id=1, created=True))
    assert not is_new_contact(CreateCallTaskResult(task_id=1, created=False))
    assert is_new_contact(NotifyResult(idempotency_key="k", status_code=200))
    assert not is_new_contact(None)


def test_the_send_time_header_is_epoch_milliseconds() -> None:
    header = sent_at_header(now=1_700_000_000.25)
    assert list(header) == [SENT_AT_HEADER]
    assert header[SENT_AT_HEADER].data == b"1700000000250"


@pytest.mark.parametrize("value", ["9464", "host:", "host:99999", ":x"])
def test_a_bad_metrics_address_names_the_setting(value: str) -> None:
    with pytest.raises(ValidationError, match="worker_metrics_address"):
        Settings(worker_metrics_address=value)


def test_empty_metrics_address_turns_the_endpoint_off() -> None:
    assert Settings(worker_metrics_address="").worker_metrics_address is None
    _, serves = build_runtime(Settings(worker_metrics_address=""))
    assert not serves


def test_the_endpoint_serves_and_a_taken_port_is_logged_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    (port,) = free_tcp_ports(1)
    _, serves = build_runtime(Settings(worker_metrics_address=f"127.0.0.1:{port}"))
    assert serves
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        assert answer.status == 200
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="overdue.metrics"):
            runtime, serves = build_runtime(Settings(worker_metrics_address=f"127.0.0.1:{busy}"))
    assert not serves and runtime is not None
    assert f"metrics endpoint not started: 127.0.0.1:{busy} is in use" in caplog.text
    assert "OVERDUE_WORKER_METRICS_ADDRESS" in caplog.text
