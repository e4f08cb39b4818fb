"""`overdue score`: train the risk model, generate its synthetic training set, choose the
active model, and score an account (docs/strategy.md#risk-scoring).

    overdue score train [--from-csv FILE] [--no-activate] [--no-store] [--seed N]
    overdue score generate --out FILE [--rows N] [--seed N]
    overdue score activate VERSION | overdue score deactivate
    overdue score ACCOUNT              (or --account ACCOUNT, for an id such as "train")

Exit codes: 0 done; 1 nothing to score with or nothing to score (no active model, unknown
account); 2 refused input (arguments, a training file, too few closed bills, settings).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from overdue.scoring.synthetic import SHIPPED_CSV
from overdue.settings import Settings

ACTIONS = ("train", "generate", "activate", "deactivate")
_ACCOUNT = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    score = commands.add_parser(
        "score",
        help="Risk scoring: train the model, or score an account.",
        description="Risk scoring (docs/strategy.md#risk-scoring). ACTION is one of "
        f"{', '.join(ACTIONS)}, or an account id to score now. Run `overdue score ACTION -h`.",
    )
    score.add_argument("what", nargs="?", metavar="ACTION|ACCOUNT")
    score.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    score.add_argument("--account", help="the account to score (for an id equal to an action)")
    return {"score": run_score}


def action_parser(action: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"overdue score {action}")
    if action == "train":
        parser.description = (
            "Fit the risk model on the closed bills in Postgres (or a CSV), print its held-out "
            "AUC, write its JSON to OVERDUE_SCORE_MODEL_DIR, store it and make it active."
        )
        parser.add_argument("--from-csv", type=Path, metavar="FILE", help="train on FILE")
        parser.add_argument(
            "--synthetic", action="store_true", help=f"train on the shipped {SHIPPED_CSV.name}"
        )
        parser.add_argument("--no-activate", action="store_true", help="store, keep the old")
        parser.add_argument("--no-store", action="store_true", help="only write the JSON file")
        parser.add_argument("--seed", type=int, default=7, help="the held-out split's seed")
    elif action == "generate":
        parser.description = "Write a synthetic training set (a planted relationship) as CSV."
        parser.add_argument("--out", type=Path, required=True, metavar="FILE")
        parser.add_argument("--rows", type=_rows, default=3000)
        parser.add_argument("--seed", type=int, default=18)
    elif action == "activate":
        parser.description = "Make a stored model the one that scores."
        parser.add_argument("version")
    else:
        parser.description = "Stop scoring: no model is active (reports start unscored)."
    return parser


def _rows(text: str) -> int:
    try:
        rows = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= rows <= 1_000_000:
        raise argparse.ArgumentTypeError("must be from 1 to 1000000")
    return rows


def run_score(settings: Settings, args: argparse.Namespace) -> int:
    from workers.cli import score_actions

    if args.account is not None or (args.what is not None and args.what not in ACTIONS):
        account = args.account if args.account is not None else args.what
        if args.rest or (args.account is not None and args.what is not None):
            return _refuse("score an account with `overdue score ACCOUNT` and nothing else")
        if not _ACCOUNT.match(account):
            return _refuse(f"{account!r} is not an account id (letters, digits, _ . : -)")
        return score_actions.score_account(settings, account)
    if args.what is None:
        return _refuse(f"name an action ({', '.join(ACTIONS)}) or an account id")
    try:
        parsed = action_parser(args.what).parse_args(args.rest)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    handlers = {
        "train": score_actions.train,
        "generate": score_actions.generate,
        "activate": score_actions.activate,
        "deactivate": score_actions.activate,
    }
    return handlers[args.what](settings, parsed)


def _refuse(message: str) -> int:
    print(f"overdue score: {message}", file=sys.stderr)
    return 2
