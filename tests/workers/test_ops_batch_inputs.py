"""`overdue pause/resume` refuse a reason or actor with control characters before any call:
both are kept in the audit trail and the workflows' records."""

from __future__ import annotations

import pytest

from workers.ops.batch import request_for
from workers.ops.errors import OpsError


@pytest.mark.parametrize(("actor", "reason"), [("ops:li", "INC-42\x00"), ("ops:\x1bli", "x")])
def test_control_characters_are_refused(actor: str, reason: str) -> None:
    with pytest.raises(OpsError, match="must not contain control characters") as refused:
        request_for("pause", actor, reason)
    assert refused.value.exit_code == 2


def test_a_clean_request_is_the_workflows_input_and_its_text_stays_apart() -> None:
    request, text = request_for("resume", "ops:li", "INC-42 resolved")
    assert text.text == "INC-42 resolved"
    assert request.text_id == text.id
    assert request.reason == ""  # typed text never enters the workflow
