"""`overdue policy move`: a dry run previews and changes nothing; --apply moves the matching
running accounts (each workflow validates the move), audits each, and a second run moves none
again."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import Stack
from tests.integration.ops.support import Ran
from tests.integration.support import eventually, start_account
from workers.cli import ops_commands
from workers.cli.main import build_parser
from workers.cli.policy_move_command import move_policy_command

pytestmark = pytest.mark.integration
FAST = Path(__file__).parents[2] / "policies" / "fast.yaml"


async def move(stack: Stack, *argv: str) -> Ran:
    args = build_parser().parse_args(["policy", "move", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = await ops_commands.run(move_policy_command, stack.settings, args, out, err)
    return Ran(code, out.getvalue(), err.getvalue())


def new_version(tmp_path: Path) -> Path:
    """fast.yaml as version 2, with an SMS an hour after the start."""
    policy = yaml.safe_load(FAST.read_text())
    policy["version"] = 2
    policy["stages"].append(
        {"id": "t1h_sms", "offset": "1h", "channel": "sms", "template": "notice"}
    )
    path = tmp_path / "fast-v2.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True))
    return path


async def test_preview_then_move_then_nothing_to_move(stack: Stack, tmp_path: Path) -> None:
    product = f"move_{uuid.uuid4().hex[:8]}"
    accounts = sorted([await start_account(stack, product=product) for _ in range(2)])
    bystander = await start_account(stack)
    query = f"Product = '{product}'"
    v2 = str(new_version(tmp_path))

    async def previewed() -> Ran | None:
        ran = await move(stack, v2, "--query", query)
        return ran if "2 of 2 running accounts would move" in ran.out else None

    dry = await eventually(previewed)
    assert dry.code == 0, dry.err
    assert dry.out.count("t1h_sms") == 2 and "fast v1" in dry.out
    for account in accounts:
        status = (await stack.api.get(f"/v1/accounts/{account}")).json()
        assert status["policy_version"] == 1

    moved = await move(stack, v2, "--query", query, "--apply", "--yes", "--actor", "ops:lee")
    assert moved.code == 0, moved.out + moved.err
    assert "2 of 2 running accounts moved" in moved.out
    for account in accounts:
        status = (await stack.api.get(f"/v1/accounts/{account}")).json()
        assert status["policy_version"] == 2
        assert "policy fast v1 -> fast v2 by ops:lee" in status["notes"]
    bystanding = (await stack.api.get(f"/v1/accounts/{bystander}")).json()
    assert bystanding["policy_version"] == 1
    audited = await stack.pool.fetch(
        "SELECT account_id, actor, details->>'to' AS target FROM audit_events"
        " WHERE kind = 'policy.moved' AND account_id = ANY($1::text[]) ORDER BY account_id",
        accounts,
    )
    assert [(r["account_id"], r["actor"], r["target"]) for r in audited] == [
        (a, "ops:lee", "fast v2") for a in accounts
    ]

    again = await move(stack, v2, "--query", query, "--apply", "--yes", "--actor", "ops:lee")
    assert again.code == 1
    assert "0 of 2 running accounts moved" in again.out
    assert again.out.count("refused: the account is already on fast v2") == 2


async def test_bad_input_is_refused_before_anything_is_asked(stack: Stack, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: 0\n")
    ran = await move(stack, str(broken))
    assert ran.code == 2 and "broken.yaml" in ran.err
    ran = await move(stack, str(FAST), "--horizon-days", "0")
    assert (ran.code, ran.err) == (2, "overdue: --horizon-days must be from 1 to 366, got 0\n")
    ran = await move(stack, str(FAST), "--query", "Product = ")
    assert ran.code == 2 and "invalid --query" in ran.err
