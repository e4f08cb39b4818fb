"""The simulation's HTML report: one self-contained page, charts drawn by matplotlib as inline
SVG (no script, no CDN, nothing fetched), the figures' tables, and with a comparison the two
policies side by side and their differences."""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

plt.rcParams["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC"]
plt.rcParams["svg.fonttype"] = "path"  # text as shapes: the page needs no font
plt.rcParams["svg.hashsalt"] = "overdue-simulate"  # the same SVG ids every run
plt.rcParams["axes.spines.top"] = False
plt.rcParams["axes.spines.right"] = False

STYLE = """
body { font-family: system-ui, 'Noto Sans CJK SC', sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.up { background: #e6f4ea; } td.down { background: #fdecea; }
.verdict { font-weight: bold; padding: .4em .8em; display: inline-block; border-radius: 4px; }
.ok { background: #e6f4ea; } .bad { background: #fdecea; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; } .charts svg { max-width: 100%; height: auto; }
.meta { color: #555; }
"""

Run = dict[str, Any]


def render(report: Run) -> str:
    """The page for one run, or for a comparison (`compare` in report_data)."""
    runs = [report["champion"], report["challenger"]] if "champion" in report else [report]
    title = " vs ".join(_name(r) for r in runs)
    parts = [f"<h1>Portfolio simulation: {_e(title)}</h1>", _meta(runs[0])]
    parts.append(_compliance(runs))
    parts.append(_totals(runs, report.get("differences")))
    parts.append("<h2>Contacts per day</h2>" + _charts(runs, _contacts_chart))
    parts.append("<h2>Accounts by state</h2>" + _charts(runs, _states_chart))
    parts.append("<h2>Open accounts by days past due</h2>" + _charts(runs, _buckets_chart))
    parts.append("<h2>Agent load: hours needed per hour of the day</h2>")
    parts.append(_charts(runs, _agent_chart))
    parts.append("<h2>Amount recovered (cumulative)</h2>" + _charts(runs, _recovered_chart))
    parts.append("<h2>SMS segments and Temporal actions per day</h2>" + _charts(runs, _cost_chart))
    parts.append(_stage_table(runs))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n{body}\n</body></html>\n"
    )


def _name(run: Run) -> str:
    return f"{run['policy']['id']} v{run['policy']['version']}"


def _e(value: object) -> str:
    return html.escape(str(value))


def _meta(run: Run) -> str:
    days = run["days"]
    return (
        f"<p class='meta'>{run['accounts']:,} accounts, {len(days)} days from {_e(days[0])} "
        f"(start {_e(run['start'])}), seed {run['seed']}, behaviour model "
        f"{_e(run.get('behaviour_model', ''))}, portfolio {_e(run.get('portfolio', ''))}; "
        f"{run['distinct_paths']:,} distinct processes run.</p>"
    )


def _compliance(runs: list[Run]) -> str:
    rows = []
    for run in runs:
        c = run["compliance"]
        bad = c["total_violations"]
        verdict = "0 violations" if not bad else f"{bad} violations: {c['violations']}"
        rows.append(
            f"<p><span class='verdict {'bad' if bad else 'ok'}'>{_e(_name(run))}: compliance "
            f"check of {c['contacts_checked']:,} contacts: {_e(verdict)}</span></p>"
        )
    return "<h2>Compliance check</h2>" + "".join(rows)


def _totals(runs: list[Run], differences: dict[str, float] | None) -> str:
    keys = list(dict.fromkeys(k for run in runs for k in run["totals"]))
    head = "".join(f"<th>{_e(_name(r))}</th>" for r in runs)
    head += "<th>difference</th>" if differences is not None else ""
    rows = []
    for key in keys:
        cells = "".join(f"<td>{_number(r['totals'].get(key, 0))}</td>" for r in runs)
        if differences is not None:
            diff = differences.get(key, 0)
            mark = "up" if diff > 0 else "down" if diff < 0 else ""
            cells += f"<td class='{mark}'>{_signed(diff) if diff else ''}</td>"
        rows.append(f"<tr><td>{_e(key)}</td>{cells}</tr>")
    table = f"<table id='totals'><tr><th>figure</th>{head}</tr>{''.join(rows)}</table>"
    return "<h2>Totals</h2>" + table


def _stage_table(runs: list[Run]) -> str:
    head = "".join(f"<th>{_e(_name(r))}</th>" for r in runs)
    stages = list(dict.fromkeys(s for r in runs for s in r["contacts_by_stage"]))
    rows = []
    for stage in stages:
        values = [r["contacts_by_stage"].get(stage) for r in runs]
        first = [next((d for d, v in enumerate(vs or []) if v), None) for vs in values]
        cells = "".join(
            f"<td>{sum(vs or []):,} (from day {f if f is not None else '-'})</td>"
            for vs, f in zip(values, first, strict=True)
        )
        rows.append(f"<tr><td>{_e(stage)}</td>{cells}</tr>")
    return (
        "<h2>Contacts by stage</h2><table id='stages'>"
        f"<tr><th>stage</th>{head}</tr>{''.join(rows)}</table>"
    )


def _number(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) or float(value).is_integer() else f"{value:,.4f}"


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + _number(value)


def _charts(runs: list[Run], draw: Callable[[Axes, Run], None]) -> str:
    svgs = []
    for run in runs:
        fig, ax = plt.subplots(figsize=(6.4 if len(runs) > 1 else 9, 3.2))
        draw(ax, run)
        ax.set_title(_name(run), fontsize=10)
        svgs.append(_svg(fig))
    return f"<div class='charts'>{''.join(svgs)}</div>"


def _svg(fig: Figure) -> str:
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _lines(ax: Axes, series: dict[str, list[float]], ylabel: str) -> None:
    for name, values in series.items():
        ax.plot(range(len(values)), values, label=name, linewidth=1.2)
    ax.set_xlabel("day")
    ax.set_ylabel(ylabel)
    if series:
        ax.legend(fontsize=7, loc="upper right")


def _contacts_chart(ax: Axes, run: Run) -> None:
    _lines(ax, run["contacts"], "contacts")


def _states_chart(ax: Axes, run: Run) -> None:
    states = run["states"]
    if states:
        days = range(len(next(iter(states.values()))))
        ax.stackplot(days, *states.values(), labels=list(states), alpha=0.85)
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("day")
    ax.set_ylabel("accounts")


def _buckets_chart(ax: Axes, run: Run) -> None:
    _lines(ax, run["buckets"], "open accounts")


def _agent_chart(ax: Axes, run: Run) -> None:
    grid = run["agent_hours"]["per_day_and_hour"]
    image = ax.imshow(
        [list(col) for col in zip(*grid, strict=True)] if grid else [[0]],
        aspect="auto",
        origin="lower",
        cmap="viridis",
    )
    ax.figure.colorbar(image, ax=ax, label="agent hours")
    ax.set_xlabel("day")
    ax.set_ylabel(f"hour ({run['agent_hours']['time_zone']})")


def _recovered_chart(ax: Axes, run: Run) -> None:
    series = {}
    for currency, values in run["recovered_minor"].items():
        total, cumulative = 0.0, []
        for v in values:
            total += v / 100
            cumulative.append(total)
        series[currency] = cumulative
    _lines(ax, series, "recovered (major units)")


def _cost_chart(ax: Axes, run: Run) -> None:
    _lines(
        ax,
        {"SMS segments": run["sms"]["segments"], "Temporal actions": run["temporal"]["total"]},
        "per day",
    )
