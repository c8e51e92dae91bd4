"""Printable renderings of a card: HTML (Jinja2, autoescaped) and PDF (ReportLab).

The PDF embeds (a subset of) a Chinese TrueType font from Debian's packages (`fonts-wqy-zenhei`, installed
by `make browser-deps`; `fonts-wqy-microhei` and `fonts-arphic-uming` also serve), so it prints the same on
any reader, with nothing fetched. Without one of them it falls back to ReportLab's CID font STSong-Light,
which is not embedded (readers with Adobe's Chinese font pack show it; others may not), and logs a warning.
Both renderings show the same things: the header, each visible section with its source and as-of date, its
indicators and its lists.
"""

from __future__ import annotations

import functools
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from jinyu.credit.schemas import CardOut

log = logging.getLogger(__name__)
# Debian's CJK TrueType fonts (glyf outlines: ReportLab embeds those; the CFF-based Noto CJK it cannot).
CJK_FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
EMBEDDED_FONT = "JinyuCJK"
FALLBACK_FONT = "STSong-Light"
_ENV = Environment(loader=PackageLoader("jinyu.credit", "templates"), autoescape=select_autoescape(["html"]))
MAX_LIST_ROWS = 12
WITHHELD_TEXT = (
    "已按数据安全策略隐去（5级数据，须在授权上获监管主管级别审批）/ withheld by the data-security policy "
    "(level-5 data: needs a supervisor's level approval on your grant)"
)


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
        card=card, scalars=scalars, lists=lists, withheld_text=WITHHELD_TEXT
    )


@functools.cache
def pdf_font() -> str:
    """The registered font the PDF is set in: an embedded Debian CJK font when one is installed."""
    for path in CJK_FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, str(path), subfontIndex=0))
            return EMBEDDED_FONT
    log.warning("no CJK TrueType font (apt-get install fonts-wqy-zenhei): PDF falls back to STSong-Light")
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


def pdf(card: CardOut) -> bytes:
    font = pdf_font()
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    head = ParagraphStyle("head", fontName=font, fontSize=13, leading=18, spaceBefore=10)
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
            story.append(Paragraph(_esc(WITHHELD_TEXT), body))
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
