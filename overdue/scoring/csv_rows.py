"""Training rows as CSV: one closed bill a line, the FEATURES by name, `product` and `paid`
(1 when paid within the outcome window, else 0). `overdue score train --from-csv` reads it,
`overdue score generate` writes it."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from overdue.scoring.features import FEATURES, Example, TrainingDataError

HEADER = [*FEATURES, "product", "paid"]
_PRODUCT = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def read_examples(path: Path) -> list[Example]:
    """The file's rows; TrainingDataError names the first bad line and field."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return _parse(csv.DictReader(handle), path.name)
    except (OSError, UnicodeDecodeError) as err:
        raise TrainingDataError(f"cannot read {path}: {err}") from None


def _parse(reader: csv.DictReader[str], name: str) -> list[Example]:
    missing = [c for c in HEADER if c not in (reader.fieldnames or [])]
    if missing:
        raise TrainingDataError(f"{name}: the header lacks {', '.join(missing)}")
    examples = []
    for line, row in enumerate(reader, start=2):
        examples.append(_example(row, f"{name} line {line}"))
    return examples


def _example(row: dict[str, str], where: str) -> Example:
    values = {}
    for feature in FEATURES:
        text = (row.get(feature) or "").strip()
        try:
            value = float(text)
        except ValueError:
            raise TrainingDataError(f"{where}: {feature} {text!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise TrainingDataError(f"{where}: {feature} must be a number >= 0, got {text!r}")
        values[feature] = value
    product = (row.get("product") or "").strip()
    if not _PRODUCT.match(product):
        raise TrainingDataError(f"{where}: product {product!r} is not a product id")
    paid = (row.get("paid") or "").strip()
    if paid not in {"0", "1"}:
        raise TrainingDataError(f"{where}: paid must be 0 or 1, got {paid!r}")
    return Example(features=values, product=product, paid=paid == "1")


def write_examples(out: TextIO, examples: Iterable[Example]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    count = 0
    for e in examples:
        writer.writerow([_number(e.features[f]) for f in FEATURES] + [e.product, int(e.paid)])
        count += 1
    return count


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.4f}"
