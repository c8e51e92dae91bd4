"""Parsing untrusted XML with the standard library's C parser, refusing what makes XML dangerous.

XML bombs (entity expansion) and external entities both need a document type declaration, so a document with
one is refused before parsing, as `defusedxml`'s `forbid_dtd` does; the bytes must be UTF-8 (as ISO 20022
requires) without NUL, so no other encoding can hide a declaration from that check. Whitespace between tags is
dropped before parsing: indented files parse about twice as fast. A parse error is reported at its line and
column in the file as uploaded.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from jinyu.risk.statements.parsing.values import Problems

_BETWEEN_TAGS = re.compile(rb">\s+<")
_DECLARATIONS = re.compile(rb"<!(DOCTYPE|ENTITY)")


def parse_untrusted(data: bytes, problems: Problems) -> ET.Element | None:
    """The root element, or None with the problem recorded (field `xml`)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add("xml", f"须为 UTF-8 编码 / must be UTF-8: byte {exc.start}")
        return None
    if b"\x00" in data or _DECLARATIONS.search(data):
        problems.add("xml", "不允许 DTD、实体声明或 NUL 字符 / DTDs, entity declarations and NUL are refused")
        return None
    try:
        return ET.fromstring(_BETWEEN_TAGS.sub(b"><", data))
    except ET.ParseError:
        pass
    try:  # parse the file as uploaded, only to say where the error is
        ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        problems.add(
            "xml",
            f"XML 第 {line} 行第 {column} 列无法解析 / XML does not parse at line {line}, column {column}",
        )
        return None
    problems.add("xml", "XML 无法解析 / XML does not parse")
    return None
