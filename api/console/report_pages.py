"""Supervisors: the reports page (docs/reports.md). A date range grouped by queue, agent,
product, policy or days-past-due bucket; the same figures as `overdue report`, with charts drawn
on the server. Per-agent figures put outcomes and quality beside amounts: CN credit-card
measures art. 66 forbid judging collectors on amounts recovered alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from markupsafe import Markup
from starlette.responses import Response

from api.console.context import Console, Supervisor
from api.console.i18n import N_, Translator
from api.console.rendering import render
from overdue.reports import (
    Report,
    ReportRequest,
    ReportRequestInvalid,
    build_report,
    report_json,
    rules_from,
)
from overdue.store.report_reads import DIMENSIONS

router = APIRouter(prefix="/console", include_in_schema=False)
DEFAULT_DAYS = 7
Param = Annotated[str | None, Query(max_length=32)]


GROUP_NAMES = {
    "all": N_("Everything"),
    "queue": N_("Queue"),
    "agent": N_("Agent"),
    "product": N_("Product"),
    "policy": N_("Policy"),
    "bucket": N_("Days past due"),
}
OPEN_ITEMS = {
    "dispute": N_("Disputes open"),
    "complaint": N_("Complaints"),
    "escalation": N_("Escalations open"),
}


@router.get("/reports")
async def reports(
    page: Supervisor,
    first: Annotated[str | None, Query(alias="from", max_length=32)] = None,
    last: Annotated[str | None, Query(alias="to", max_length=32)] = None,
    group: Param = None,
) -> Response:
    settings = page.services.settings
    today = datetime.now(ZoneInfo(settings.report_time_zone)).date()
    form = {
        "from": first or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "to": last or today.isoformat(),
        "group": group or "agent",
    }
    try:
        request = ReportRequest.parse(form["from"], form["to"], form["group"])
    except ReportRequestInvalid as err:
        return _page(page, form, None, status_code=400, error=_error_words(page.t, err, form))
    report = await build_report(page.services.pool, request, rules_from(settings))
    return _page(page, form, report)


def _error_words(t: Translator, err: ReportRequestInvalid, form: dict[str, str]) -> str:
    text = str(err)
    if text.startswith("the range is reversed"):
        return t.gettext("The range is reversed: %(to)s is before %(from)s.", to=form["to"],
                         **{"from": form["from"]})  # fmt: skip
    if text.startswith("unknown group"):
        return t.gettext("Unknown grouping.")
    if "longer than" in text:
        return t.gettext("The range is longer than a year.")
    return t.gettext("Dates are written like 2026-12-01.")


def _page(
    page: Console,
    form: dict[str, str],
    report: Report | None,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    t = page.t
    values: dict[str, Any] = {
        "form": form,
        "error": error,
        "groupings": [(d, t.gettext(GROUP_NAMES[d])) for d in DIMENSIONS],
        "here": "/console/reports",
    }
    if report is not None:
        data = report_json(report)
        values.update(_figures(t, report, data))
    return render(page, "reports.html", status_code, **values)


def group_label(t: Translator, dimension: str, name: str) -> str:
    if name == "":
        return t.gettext("(none)")
    if dimension == "all":
        return t.gettext("Everything")
    if dimension == "bucket" and name == "current":
        return t.gettext("not yet due")
    return name


def _figures(t: Translator, report: Report, data: dict[str, Any]) -> dict[str, Any]:
    dimension = report.request.group
    groups: dict[str, Any] = data["groups"]
    rows = [(group_label(t, dimension, name), g) for name, g in groups.items()]
    totals = _totals(groups, report.buckets)
    return {
        "report": report,
        "rows": rows,
        "totals": totals,
        "buckets": report.buckets,
        "bucket_label": lambda b: t.gettext("not yet due") if b == "current" else b,
        "open_names": [(k, t.gettext(v)) for k, v in OPEN_ITEMS.items()],
        "rates_svg": _rates_svg(t, rows),
        "moves_svg": _moves_svg(t, totals["moves"], report.buckets),
    }


def _totals(groups: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """Contacts by channel and stage, bucket moves and open items over every group."""
    contacts: dict[str, int] = {}
    moves: dict[str, dict[str, int]] = {}
    opened: dict[str, dict[str, int]] = {}
    for g in groups.values():
        for key, n in g["contacts"].items():
            contacts[key] = contacts.get(key, 0) + n
        for start, to in g["bucket_moves"].items():
            for state, n in to.items():
                moves.setdefault(start, {})[state] = moves.setdefault(start, {}).get(state, 0) + n
        for item, age in g["open"].items():
            into = opened.setdefault(item, {"open": 0, "past_deadline": 0, "oldest_days": 0})
            into["open"] += age["open"]
            into["past_deadline"] += age["past_deadline"]
            into["oldest_days"] = max(into["oldest_days"], age["oldest_days"])
    rates = {}
    for start, to in moves.items():
        total = sum(to.values())
        later = sum(n for s, n in to.items() if s in order and order.index(s) > order.index(start))
        rates[start] = {"cured": to.get("cured", 0) / total, "rolled": later / total, "n": total}
    channels = sorted(contacts.items(), key=lambda kv: kv[0])
    return {"contacts": [(*k.split(":", 1), n) for k, n in channels], "moves": moves,
            "move_rates": rates, "open": opened}  # fmt: skip


def _rates_svg(t: Translator, rows: list[tuple[str, Any]]) -> Markup | None:
    if not rows:
        return None
    # Imported here: matplotlib costs every API process ~0.6 s at start for a supervisors' page.
    from api.console.report_charts import rates_chart

    shown = rows[:20]  # a chart of more bars reads as noise; the table has them all
    return rates_chart(
        t.gettext("Quality by group"),
        [name for name, _ in shown],
        [
            (t.gettext("Right-party rate"), [g["right_party_rate"] for _, g in shown]),
            (t.gettext("Promises kept"), [g["promise_kept_rate"] for _, g in shown]),
            (t.gettext("Cure rate"), [g["cure_rate"] for _, g in shown]),
        ],
    )


def _moves_svg(t: Translator, moves: dict[str, dict[str, int]], order: list[str]) -> Markup | None:
    starts = [b for b in order if b in moves]
    if not starts:
        return None

    def share(kind: str) -> list[int]:
        out = []
        for b in starts:
            to = moves[b]
            if kind == "cured":
                out.append(to.get("cured", 0))
            elif kind == "stayed":
                out.append(to.get(b, 0))
            else:
                out.append(sum(n for s, n in to.items() if s not in ("cured", b)))
        return out

    from api.console.report_charts import moves_chart

    return moves_chart(
        t.gettext("Where accounts went, by the bucket they started in"),
        [t.gettext("not yet due") if b == "current" else b for b in starts],
        [(t.gettext("Cured"), share("cured")), (t.gettext("Stayed"), share("stayed")),
         (t.gettext("Rolled on"), share("rolled"))],
    )  # fmt: skip
