"""`overdue relay`: a bad account id is refused before anything is read (the rest runs on the
suite's Postgres in tests/integration/api/test_relay_refusals.py)."""

from __future__ import annotations

import pytest

from workers.cli.main import main


@pytest.mark.parametrize("action", [["list", "--account"], ["retry", "--account"]])
def test_a_bad_account_id_is_refused(action: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["relay", *action, "not an id!"]) == 2
    assert "is not an account id" in capsys.readouterr().err


def test_retry_names_what_to_retry(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["relay", "retry"])
    assert exited.value.code == 2
    assert "one of the arguments --account --all is required" in capsys.readouterr().err
