"""What `overdue score` does (workers/cli/score_commands.py parses the arguments)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

import asyncpg

from overdue.scoring.features import Example, TrainingDataError, account_features
from overdue.scoring.model import RiskModel, Score
from overdue.scoring.synthetic import SHIPPED_CSV
from overdue.settings import Settings


def train(settings: Settings, args: argparse.Namespace) -> int:
    from overdue.scoring.csv_rows import read_examples
    from overdue.scoring.training import fit

    if args.from_csv is not None and args.synthetic:
        print("overdue score train: --from-csv and --synthetic exclude each other", file=sys.stderr)
        return 2
    csv_path = SHIPPED_CSV if args.synthetic else args.from_csv
    url = None if args.no_store and csv_path is not None else settings.require_database_url()
    try:
        if csv_path is not None:
            examples, source = read_examples(csv_path), f"csv:{csv_path.name}"
        else:
            assert url is not None
            examples, source = asyncio.run(_closed_examples(url, settings.score_outcome_days))
        now = datetime.now(UTC).replace(microsecond=0)
        model = fit(
            examples,
            source=source,
            outcome_days=settings.score_outcome_days,
            now=now,
            seed=args.seed,
        )
    except TrainingDataError as err:
        print(f"overdue score train: {err}", file=sys.stderr)
        return 2
    path = _write(settings, model)
    _print_model(model)
    print(f"written: {path}")
    if not args.no_store:
        assert url is not None
        asyncio.run(_store(url, model, activate=not args.no_activate))
        print(f"stored in Postgres{'' if args.no_activate else ' and active'}: {model.version}")
    return 0


async def _closed_examples(url: str, outcome_days: int) -> tuple[list[Example], str]:
    from overdue.store.risk_scores import closed_bills, history_facts

    conn = await asyncpg.connect(url)
    try:
        bills = await closed_bills(conn, outcome_days)
        facts = await history_facts(conn, [(b.account_id, b.reported_at) for b in bills])
    finally:
        await conn.close()
    examples = [
        Example(
            features=account_features(history, b.facts, b.reported_at),
            product=b.facts.product,
            paid=b.paid_minor >= b.facts.amount_minor,
        )
        for b, history in zip(bills, facts, strict=True)
    ]
    return examples, "postgres"


def _write(settings: Settings, model: RiskModel) -> str:
    folder = settings.score_model_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model.version}.json"
    path.write_text(model.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return str(path)


async def _store(url: str, model: RiskModel, *, activate: bool) -> None:
    from overdue.store.risk_scores import save_model

    conn = await asyncpg.connect(url)
    try:
        await save_model(conn, model.model_dump(mode="json"), activate=activate)
    finally:
        await conn.close()


def _print_model(model: RiskModel) -> None:
    m = model.metrics
    print(f"model {model.version}: {m.rows} closed bills from {m.source}, {m.paid_share:.1%} paid")
    print(f"AUC held-out: {m.auc_holdout:.3f} ({m.holdout_rows} rows); train: {m.auc_train:.3f}")
    low, high = model.cut_points
    print(f"segments by propensity to pay: high risk < {low:.3f} <= medium < {high:.3f} <= low")
    print("coefficients (per standard deviation, on the log-odds of paying):")
    for column, coefficient in sorted(
        zip(model.columns, model.coefficients, strict=True), key=lambda c: -abs(c[1])
    ):
        print(f"  {column:<28} {coefficient:+.3f}")


def generate(_settings: Settings, args: argparse.Namespace) -> int:
    from overdue.scoring.csv_rows import write_examples
    from overdue.scoring.synthetic import examples

    try:
        with args.out.open("w", encoding="utf-8") as out:
            rows = write_examples(out, examples(args.rows, args.seed))
    except OSError as err:
        print(f"overdue score generate: cannot write {args.out}: {err}", file=sys.stderr)
        return 2
    print(f"{rows} rows written to {args.out} (seed {args.seed})")
    return 0


def activate(settings: Settings, args: argparse.Namespace) -> int:
    from overdue.store.risk_scores import activate_model

    version: str | None = getattr(args, "version", None)

    async def run() -> bool:
        conn = await asyncpg.connect(settings.require_database_url())
        try:
            return await activate_model(conn, version)
        finally:
            await conn.close()

    if not asyncio.run(run()):
        print(f"overdue score activate: no stored model {version!r}", file=sys.stderr)
        return 1
    print(f"active model: {version}" if version else "no model is active: reports start unscored")
    return 0


def score_account(settings: Settings, account_id: str) -> int:
    from api.risk_scoring import NotScorable, rescore

    async def run() -> Score:
        pool = await asyncpg.create_pool(settings.require_database_url(), min_size=1, max_size=2)
        try:
            return await rescore(pool, account_id)
        finally:
            await pool.close()

    try:
        score = asyncio.run(run())
    except NotScorable as err:
        print(f"overdue score: {err}", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {"account_id": account_id, **score.model_dump(mode="json", exclude={"features"})},
            indent=2,
            ensure_ascii=False,
        )
    )
    return 0
