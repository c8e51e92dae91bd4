"""Charts drawn on the server as SVG: no script, nothing to load, readable without JavaScript.

A horizontal bar chart is what the console's figures need (amounts or counts per bank, month, insurer): one bar
per row, scaled to the largest value, with its label and formatted value. Colours are presentation attributes,
not inline styles, so the pages' Content-Security-Policy (style-src 'self') holds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from markupsafe import Markup

ROW = 26
LABEL_WIDTH = 180
BAR_WIDTH = 380
VALUE_WIDTH = 140


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal


def bar_chart(title: str, bars: Sequence[Bar], fmt: Callable[[Decimal], str]) -> Markup:
    """An accessible SVG (role=img, titled); an empty sequence draws nothing."""
    if not bars:
        return Markup("")
    top = max((b.value for b in bars), default=Decimal(0))
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = ROW * len(bars) + 8
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        length = 0 if top <= 0 or bar.value <= 0 else max(1, int(BAR_WIDTH * bar.value / top))
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="#333">'
            f"{escape(_clip(bar.label))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 8}" fill="#b3282d" rx="2"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}" font-size="12" fill="#333">'
            f"{escape(fmt(bar.value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _clip(label: str, limit: int = 16) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


PALETTE = ("#b3282d", "#1f5fa8", "#2e7d32", "#c77700", "#6a3d9a", "#00838f", "#795548", "#546e7a")


@dataclass(frozen=True)
class Series:
    label: str
    points: dict[str, Decimal]  # x label (e.g. a month) -> value


def line_chart(
    title: str, series: Sequence[Series], fmt: Callable[[Decimal], str], log: bool = False
) -> Markup:
    """One line per series over the sorted x labels of all series (a month missing in a series is a gap, not a
    zero). `log` spreads values of different magnitudes (0.03 % and 0.7 %) over the height; values at or below
    zero sit on the floor there."""
    xs = sorted({x for s in series for x in s.points})
    values = [v for s in series for v in s.points.values()]
    if not xs or not values:
        return Markup("")
    width, height, left, bottom, legend = 720, 260, 70, 40, 18 * len(series)
    plot_w, plot_h = width - left - 20, height - bottom - 16

    def scale(v: Decimal) -> float:
        if log:
            floor = max(min((x for x in values if x > 0), default=Decimal("0.001")), Decimal("0.0001"))
            lo, hi = math.log10(floor), math.log10(max(max(values), floor * 10))
            return (math.log10(max(v, floor)) - lo) / ((hi - lo) or 1)
        hi_lin = max(max(values), Decimal(0))
        return float(v / hi_lin) if hi_lin > 0 else 0.0

    def xy(i: int, v: Decimal) -> tuple[float, float]:
        x = left + (plot_w * i / max(len(xs) - 1, 1))
        return round(x, 1), round(16 + plot_h * (1 - scale(v)), 1)

    total_h = height + legend
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{16 + plot_h}" x2="{left + plot_w}" y2="{16 + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="20" text-anchor="end" font-size="11" fill="#333">{escape(fmt(max(values)))}</text>',
    ]
    step = max(1, len(xs) // 12)  # at most a dozen labels under the axis
    for i, x in enumerate(xs):
        if i % step == 0:
            px, _ = xy(i, Decimal(0))
            parts.append(
                f'<text x="{px}" y="{height - 18}" text-anchor="middle" font-size="10" fill="#333">{escape(x)}</text>'
            )
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        pts = [xy(i, s.points[x]) for i, x in enumerate(xs) if x in s.points]
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
            + " ".join(f"{px},{py}" for px, py in pts)
            + '"/>'
        )
        parts.extend(f'<circle cx="{px}" cy="{py}" r="2.5" fill="{colour}"/>' for px, py in pts)
        ly = height + 4 + n * 18
        parts.append(
            f'<rect x="{left}" y="{ly}" width="12" height="10" fill="{colour}"/>'
            f'<text x="{left + 18}" y="{ly + 10}" font-size="12" fill="#333">{escape(_clip(s.label, 40))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
