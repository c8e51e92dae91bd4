"""Charts drawn on the server as SVG: no script, nothing to load, readable without JavaScript.

A horizontal bar chart is what the console's figures need (amounts or counts per bank, month, insurer): one bar
per row, scaled to the largest value, with its label and formatted value. Colours are presentation attributes,
not inline styles, so the pages' Content-Security-Policy (style-src 'self') holds.
"""

from __future__ import annotations

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
