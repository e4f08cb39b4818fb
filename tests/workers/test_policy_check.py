"""`overdue policy check FILE`: 0 when clean, 1 with each finding's path printed, 2 for a file
that cannot be read or is not a valid policy."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from workers.cli.main import main
from workers.cli.policy_commands import check_file

ROOT = Path(__file__).resolve().parents[2]

FINDINGS = """
id: broken
version: 1
default_locale: zh-CN
stages: [{id: d1_sms, offset: 1d, channel: sms, template: first}]
templates:
  first:
    zh-CN: "{name}您好 逾期将上门催收。"
    en: "Hello {name}, pay {amount} {currency}. Reply STOP to opt out."
"""


def run(file: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = check_file(file, out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_clean_policy_exits_0_with_its_texts_listed() -> None:
    code, out, err = run(ROOT / "policies" / "default.yaml")
    assert code == 0, out + err
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in out.splitlines()[1:9]}
    assert rows[("overdue_first_notice", "zh-CN")] == ["2/2", "UCS-2", "0"]
    assert len(rows) == 8
    assert "policies/default.yaml: 8 SMS texts checked, no findings\n" in out
    assert "\x1b[" not in out  # plain off a terminal


def test_findings_exit_1_each_with_its_path(tmp_path: Path) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text(FINDINGS, encoding="utf-8")
    code, out, err = run(file)
    assert code == 1
    assert err == ""
    lines = out.splitlines()
    assert lines[-3].startswith(
        "templates.first.zh-CN: no opt-out phrase (needs one of: 回复TD退订, "
    )
    assert lines[-2] == "templates.first.zh-CN: threatening or misleading term '上门'"
    assert lines[-1] == f"{file}: 2 findings in 2 SMS texts; loading this policy refuses it"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "cannot read the file"),
        ("id: x\nstages: [\n", "not valid YAML"),
        ("id: x\nversion: 1\nstages: []\n", "stages: Tuple should have at least 1 item"),
    ],
)
def test_an_unreadable_or_invalid_file_exits_2(
    tmp_path: Path, text: str | None, reason: str
) -> None:
    file = tmp_path / "policy.yaml"
    if text is not None:
        file.write_text(text, encoding="utf-8")
    code, out, err = run(file)
    assert code == 2
    assert out == ""
    assert err.startswith(f"overdue: invalid policy file {file}:\n")
    assert reason in err


def test_the_command_line_runs_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(ROOT / "policies" / "demo.yaml")]) == 0
    file = tmp_path / "broken.yaml"
    file.write_text(FINDINGS, encoding="utf-8")
    assert main(["policy", "check", str(file)]) == 1
    assert "templates.first.zh-CN: threatening or misleading term '上门'" in capsys.readouterr().out
    assert main(["policy", "check", str(tmp_path / "absent.yaml")]) == 2
