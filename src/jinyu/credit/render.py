"""Printable renderings of a card: HTML (Jinja2, autoescaped) and PDF (ReportLab).

The PDF uses ReportLab's built-in CID font STSong-Light for Chinese: the font's metrics ship with ReportLab and
PDF readers supply the glyphs (Adobe's standard Chinese font set), so nothing is fetched and no font file is
embedded. Both show the same things: the header, each visible section with its source and as-of date, its
indicators and its lists.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from jinyu.credit.schemas import CardOut

FONT = "STSong-Light"
# A section the policy withholds from this reader (tax detail is level 5: a bank needs a supervisor's approval).
WITHHELD_NOTE = (
    "需监管主管级别审批后可见（5级数据）/ withheld: level-5 data, shown only under a supervisor's approval"
)
_ENV = Environment(loader=PackageLoader("jinyu.credit", "templates"), autoescape=select_autoescape(["html"]))
MAX_LIST_ROWS = 12


def scalars(data: dict[str, Any] | None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Indicator rows: plain values, nested counts flattened as `a.b`; lists are left to `lists`."""
    for key, value in (data or {}).items():
        if isinstance(value, dict):
            yield from scalars(value, f"{prefix}{key}.")
        elif not isinstance(value, list):
            yield f"{prefix}{key}", "—" if value is None else value


def lists(data: dict[str, Any] | None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for key, value in (data or {}).items():
        if isinstance(value, list):
            yield key, value[:MAX_LIST_ROWS]


def html(card: CardOut) -> str:
    return _ENV.get_template("card.html").render(
        card=card, scalars=scalars, lists=lists, WITHHELD_NOTE=WITHHELD_NOTE
    )


def pdf(card: CardOut) -> bytes:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    head = ParagraphStyle("head", fontName=FONT, fontSize=13, leading=18, spaceBefore=10)
    story: list[Flowable] = [
        Paragraph("信用信息名片 / Credit information business card", head),
        Paragraph(f"{_esc(card.name)}　统一社会信用代码 {card.uscc}", body),
        Paragraph(
            f"版本 / version {card.snapshot.version}　访问依据 / basis {card.basis}"
            + (f"　用途 / purpose {card.purpose}" if card.purpose else ""),
            body,
        ),
        Paragraph(f"快照哈希 / snapshot hash {card.snapshot.content_hash}", body),
    ]
    for section in card.sections.values():
        story.append(Paragraph(_esc(section.title), head))
        story.append(
            Paragraph(
                f"来源 / source: {_esc(section.source.bureau or '—')}　截至 / as of {section.source.as_of or '—'}",
                body,
            )
        )
        if section.status == "no_data":
            story.append(
                Paragraph("暂无数据（来源未覆盖该企业）/ no data: the source does not cover it", body)
            )
            continue
        if section.status == "withheld":
            story.append(Paragraph(WITHHELD_NOTE, body))
            continue
        story.append(_table([[k, str(v)] for k, v in scalars(section.data)], body))
        for label, rows in lists(section.data):
            story.append(Paragraph(label, body))
            if rows:
                grid = [list(rows[0].keys())] + [
                    ["—" if v is None else str(v) for v in r.values()] for r in rows
                ]
                story.append(_table(grid, body))
            else:
                story.append(Paragraph("无 / none", body))
    if card.not_shown:
        story.append(Paragraph("未获授权的板块 / not covered: " + ", ".join(card.not_shown), body))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=f"Credit card {card.uscc}").build(story)
    return out.getvalue()


def _table(rows: list[list[str]], style: ParagraphStyle) -> Table:
    cells = [[Paragraph(_esc(c), style) for c in row] for row in rows] or [[Paragraph("—", style)]]
    table = Table(cells, hAlign="LEFT", spaceBefore=2, spaceAfter=4)
    table.setStyle(
        TableStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    )
    return table


def _esc(text: str) -> str:
    # Paragraph text is a small XML dialect: escape what it would read as markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
