"""Charts drawn in the browser by Apache ECharts (an npm package the app serves itself), from data the server
writes into the page; a data table under each chart keeps the figures readable without JavaScript.

Each chart is one `<figure class="chart-box">` holding:
- an empty `<div class="echart">` that `static/charts.js` draws into;
- its data as `<script type="application/json" class="chart-data">` (data, not code: the Content-Security-Policy
  forbids inline scripts, and a JSON element is never executed);
- `<details open class="chart-table">` with the same figures as a table (charts.js folds it once the chart is
  drawn; without JavaScript it stays open).

Numbers are formatted here (yuan, percent) so the chart's labels and the table say exactly what the rest of
the page says; the floats in the data only place bars and points.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from jinyu.risk.tracing.schemas import EvidencePath, EvidenceStep

LABEL_LIMIT = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal


@dataclass(frozen=True)
class Series:
    label: str
    points: dict[str, Decimal]  # x label (e.g. a month) -> value


def bar_chart(title: str, bars: Sequence[Bar], fmt: Callable[[Decimal], str]) -> Markup:
    """Horizontal bars, largest first as given; an empty sequence draws nothing."""
    if not bars:
        return Markup("")
    data = {
        "type": "bar",
        "labels": [_clip(b.label) for b in bars],
        "values": [float(b.value) for b in bars],
        "texts": [fmt(b.value) for b in bars],
    }
    table = _table(("", title), [(b.label, fmt(b.value)) for b in bars])
    return _figure(title, data, table)


def line_chart(
    title: str, series: Sequence[Series], fmt: Callable[[Decimal], str], log: bool = False
) -> Markup:
    """One line per series over the sorted x labels of all series (a month missing in a series is a gap, not a
    zero). `log` spreads values of different magnitudes (0.03 % and 0.7 %) over the height."""
    xs = sorted({x for s in series for x in s.points})
    if not xs:
        return Markup("")
    data = {
        "type": "line",
        "log": log,
        "x": xs,
        "series": [
            {
                "name": _clip(s.label, 40),
                "values": [_float(s.points.get(x)) for x in xs],
                "texts": [fmt(s.points[x]) if x in s.points else "" for x in xs],
            }
            for s in series
        ],
    }
    rows = [(x, *(fmt(s.points[x]) if x in s.points else "—" for s in series)) for x in xs]
    table = _table(("", *(s.label for s in series)), rows)
    return _figure(title, data, table)


def path_graph(
    title: str, paths: Sequence[EvidencePath], fmt: Callable[[Decimal], str], heads: tuple[str, str, str]
) -> Markup:
    """The money's path as a graph: one node per account (shown as the services show it: own account, masked
    related account or pseudonymous token), one edge per hop of an evidence path, labelled with the traced
    amount carried into the next account. Accounts met on several paths are drawn once. Two different related
    parties' accounts can mask alike (`****`): a node is the account as shown *and* whose it is, so they stay
    two nodes. `heads` names the table's columns (from, to, amount) in the visitor's language; the table names
    each account with its owner, as the graph's labels do."""
    ids: dict[tuple[str, str, str, str], str] = {}
    nodes: list[dict[str, Any]] = []
    links: dict[tuple[str, str], Decimal] = {}
    for path in paths:
        at = [_node(step, ids, nodes) for step in path.steps]
        for i in range(1, len(at)):
            hop = (at[i - 1], at[i])
            links[hop] = max(links.get(hop, Decimal(0)), path.steps[i].amount)
    if not links:
        return Markup("")
    shown = {n["id"]: n["shown"] for n in nodes}
    data = {
        "type": "graph",
        "nodes": nodes,
        "links": [
            {"source": a, "target": b, "value": float(v), "text": fmt(v)} for (a, b), v in links.items()
        ],
    }
    table = _table(heads, [(shown[a], shown[b], fmt(v)) for (a, b), v in links.items()], text_columns=2)
    return _figure(title, data, table)


def _node(step: EvidenceStep, ids: dict[tuple[str, str, str, str], str], nodes: list[dict[str, Any]]) -> str:
    """The node of `step`'s account (added the first time it is met): its id in the graph."""
    name = step.owner_name or step.category_label or ""
    key = (step.account, step.party, name, step.relation or "")
    if key not in ids:
        ids[key] = f"n{len(ids)}"
        shown = f"{step.account} · {name}" if name else step.account
        nodes.append(
            {"id": ids[key], "account": step.account, "party": step.party, "name": name, "shown": shown}
        )
    return ids[key]


def _figure(title: str, data: dict[str, Any], table: Markup) -> Markup:
    data["title"] = title
    return Markup(
        '<figure class="chart-box">'
        f"<figcaption>{escape(title)}</figcaption>"
        f'<div class="echart" role="img" aria-label="{escape(title)}"></div>'
        f'<script type="application/json" class="chart-data">{_json(data)}</script>'
        f'<details open class="chart-table"><summary>{escape(title)}</summary>{table}</details>'
        "</figure>"
    )


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> Markup:
    """A table of figures: the first `text_columns` columns are text, the rest numbers (right-aligned)."""
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i >= text_columns else ""}">{escape(c)}</td>' for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return Markup(f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>")


def _json(data: dict[str, Any]) -> str:
    """JSON safe inside a script element: no `<`, `>` or `&` can close it or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _clip(label: str, limit: int = LABEL_LIMIT) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
