"""The reports page's charts: drawn on the server with matplotlib (Agg) as SVG, put inline in
the page (no CDN, no script). Text is drawn as outlines in a Noto CJK font, so Chinese labels
read the same in every browser, with or without the font installed where the page is viewed.
Labels come translated from the caller; the chart knows no language."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from functools import cache

import matplotlib

matplotlib.use("Agg")

from markupsafe import Markup
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Noto Sans CJK (fonts-noto-cjk, scripts/debian-packages) covers Latin and Chinese in one face.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC")
COLOURS = ("#2f6f9f", "#e3a33b", "#5b9e5b", "#b04a4a", "#8c6bb1")


@cache
def font_family() -> list[str]:
    known = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in CJK_FAMILIES if name in known] + ["DejaVu Sans"]


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=96)
    figure.set_layout_engine("constrained")
    return figure


def _svg(figure: Figure, title: str) -> Markup:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "font.family": font_family(),
                                "svg.hashsalt": "overdue-reports"}):  # fmt: skip
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # The page's Content-Security-Policy refuses inline styles (elements and attributes):
    # the same properties as SVG presentation attributes are not styles, and it allows them.
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)
    svg = _STYLE_ATTRIBUTE.sub(_presentation, svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    return Markup(svg)  # noqa: S704 - matplotlib's own markup, labels escaped by it


_STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')


def _presentation(match: re.Match[str]) -> str:
    pairs = (part.split(":", 1) for part in match.group(1).split(";") if ":" in part)
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def rates_chart(
    title: str, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> Markup:
    """Grouped bars: one group per row label, one bar per rate (0-100 %)."""
    with matplotlib.rc_context({"font.family": font_family()}):
        figure = _figure(8, 3.2)
        axes = figure.subplots()
        width = 0.8 / max(len(series), 1)
        for i, (label, values) in enumerate(series):
            xs = [g + i * width for g in range(len(groups))]
            ys = [100 * v if v is not None else 0 for v in values]
            axes.bar(xs, ys, width, label=label, color=COLOURS[i % len(COLOURS)])
        axes.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))])
        axes.set_xticklabels(list(groups), rotation=30 if len(groups) > 6 else 0, ha="right"
                             if len(groups) > 6 else "center")  # fmt: skip
        axes.set_ylim(0, 100)
        axes.set_ylabel("%")
        axes.set_title(title)
        axes.legend(loc="upper right", fontsize="small")
        return _svg(figure, title)


def moves_chart(
    title: str, buckets: Sequence[str], stacks: Sequence[tuple[str, Sequence[int]]]
) -> Markup:
    """Stacked bars per starting bucket: how many were cured, stayed, rolled on."""
    with matplotlib.rc_context({"font.family": font_family()}):
        figure = _figure(8, 3.2)
        axes = figure.subplots()
        bottoms = [0] * len(buckets)
        for i, (label, values) in enumerate(stacks):
            axes.bar(list(buckets), list(values), bottom=bottoms, label=label,
                     color=COLOURS[i % len(COLOURS)])  # fmt: skip
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # accounts come whole
        axes.set_title(title)
        axes.legend(loc="upper right", fontsize="small")
        return _svg(figure, title)
