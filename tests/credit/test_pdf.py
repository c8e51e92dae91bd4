"""The printable PDF carries its Chinese font: a CJK TrueType font from Debian is embedded (a subset), and the
text read back from the file holds the Chinese headings, name and values (no reader font pack needed)."""

from __future__ import annotations

import datetime as dt
import io
import os
from typing import Any

import pytest
from pypdf import PdfReader

from jinyu.credit import render
from jinyu.credit.schemas import CardOut, Section, SectionSource, SnapshotRef


def _section(key: str, title: str, status: str, data: dict[str, Any] | None) -> Section:
    return Section(
        section=key, title=title, status=status, data=data, salt=None, section_hash="0" * 64,
        source=SectionSource(bureau="税务局 / tax bureau", as_of="2024-12-31"),
    )  # fmt: skip


CARD = CardOut(
    uscc="91500000MA00000019",
    name="重庆甲乙科技有限公司",
    basis="grant",
    purpose="credit_assessment",
    snapshot=SnapshotRef(
        version=3,
        content_hash="a" * 64,
        card_format="1",
        created_at=dt.datetime(2024, 12, 31, tzinfo=dt.UTC),
        section_hashes={},
    ),
    sections={
        "registration": _section(
            "registration",
            "工商登记 / Business registration",
            "ok",
            {"status": "存续", "address": "重庆市渝中区解放碑"},
        ),
        "tax": _section("tax", "纳税 / Tax", "withheld", None),
        "penalties": _section("penalties", "行政处罚 / Administrative penalties", "no_data", None),
    },
    not_shown=["headcount", "ip", "judicial"],
    withheld=["tax"],
)


def _fonts(reader: PdfReader) -> dict[str, bool]:
    """Base font name -> embedded (its descriptor carries a font file), over every page's fonts."""
    found: dict[str, bool] = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            parts = [font] + [d.get_object() for d in font.get("/DescendantFonts", [])]
            descriptors = [p["/FontDescriptor"].get_object() for p in parts if "/FontDescriptor" in p]
            embedded = any(k in d for d in descriptors for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


def test_pdf_embeds_a_cjk_font_and_its_text_reads_back() -> None:
    if not any(p.exists() for p in render.CJK_FONT_FILES):
        message = "no Debian CJK font: apt-get install fonts-wqy-zenhei (make browser-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    reader = PdfReader(io.BytesIO(render.pdf(CARD)))
    fonts = _fonts(reader)
    cjk = {
        name: embedded for name, embedded in fonts.items() if "WenQuanYi" in name or "uming" in name.lower()
    }
    assert cjk and all(cjk.values()), fonts  # e.g. /AAAAAA+WenQuanYiZenHei, with its FontFile2
    assert "/STSong-Light" not in fonts  # nothing left to a reader's font pack
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (
        "信用信息名片",
        "重庆甲乙科技有限公司",
        "工商登记",
        "重庆市渝中区解放碑",
        "纳税",
        "已按数据安全策略隐去",
        "行政处罚",
        "暂无数据",
        "未获授权的板块",
    ):
        assert expected in text, (expected, text[:400])
